"""The mail outbox: one row per cause, delivered over real SMTP, retried with backoff, once."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from donations.core import mail_sender
from donations.core.outbox import enqueue, mail_backlog
from donations.mail import Message
from donations.models import OutboxMail, utcnow
from tests.conftest import blink_database_once, flush_outbox


def _message(to: str = "reader@example.org") -> Message:
    return Message(to=to, subject="Hello", body="Plain words.", html="<p>Plain words.</p>")


def _row(db, key: str) -> OutboxMail:
    db.session.expire_all()
    return db.session.scalar(select(OutboxMail).where(OutboxMail.dedup_key == key))


def _smtp_app(make_app, smtp_server, **settings):
    app = make_app(**smtp_server.settings(), **settings)
    return app.app_context()


def test_a_mail_arrives_once_over_smtp_and_is_marked_sent(make_app, db, smtp_server):
    with _smtp_app(make_app, smtp_server):
        enqueue("test:one", _message())
        db.session.commit()
        assert flush_outbox().sent == 1
        assert flush_outbox().sent == 0  # nothing is sent twice
        [arrived] = smtp_server.to("reader@example.org")
        assert arrived["Subject"] == "Hello" and arrived["From"] == "News <news@example.org>"
        assert arrived.get_body(("plain",)).get_content().strip() == "Plain words."
        assert "<p>Plain words.</p>" in arrived.get_body(("html",)).get_content()
        row = _row(db, "test:one")
        assert row.sent_at is not None and row.next_attempt_at is None
        assert (row.attempts, row.last_error) == (1, "")


def test_the_same_cause_gives_one_row(app, db):
    first = enqueue("test:cause", _message())
    again = enqueue("test:cause", _message("other@example.org"))
    db.session.commit()
    assert first is not None and again is None
    assert len(db.session.scalars(select(OutboxMail)).all()) == 1


def test_a_mail_is_written_with_its_transaction_or_not_at_all(app, db):
    enqueue("test:rolled-back", _message())
    db.session.rollback()
    assert flush_outbox().sent == 0
    assert db.session.scalars(select(OutboxMail)).all() == []


def test_a_down_server_means_retries_with_growing_waits_then_one_delivery(
    make_app, db, smtp_server
):
    smtp_server.stop()
    with _smtp_app(make_app, smtp_server):
        enqueue("test:later", _message())
        db.session.commit()
        start = utcnow()
        waits = []
        for attempt in range(1, 4):
            with time_machine.travel(start + timedelta(hours=attempt), tick=False):
                report = flush_outbox()
                assert (report.sent, report.failed) == (0, 1)
                row = _row(db, "test:later")
                waits.append((row.next_attempt_at - utcnow()).total_seconds())
                assert flush_outbox().failed == 0  # not due again before its wait
        assert waits == [30.0, 60.0, 120.0]
        assert "ConnectionRefusedError" in row.last_error and row.attempts == 3
        backlog = mail_backlog(start + timedelta(hours=3))
        assert (backlog.pending, backlog.failing, backlog.given_up) == (1, 1, 0)
        smtp_server.start()
        with time_machine.travel(start + timedelta(hours=4), tick=False):
            assert flush_outbox().sent == 1
            assert flush_outbox().sent == 0
        assert len(smtp_server.to("reader@example.org")) == 1
        assert mail_backlog(utcnow()).pending == 0


def test_a_mail_refused_for_good_is_given_up_not_retried(make_app, db, smtp_server):
    smtp_server.refused.add("gone@example.org")
    with _smtp_app(make_app, smtp_server):
        enqueue("test:refused", _message(to="gone@example.org"))
        db.session.commit()
        assert flush_outbox().failed == 1
        row = _row(db, "test:refused")
        assert row.sent_at is None and row.next_attempt_at is None
        assert row.last_error.startswith("given up: SMTPRecipientsRefused")
        assert mail_backlog(utcnow()).given_up == 1


def test_a_claimed_row_is_not_taken_by_a_second_sender(app, db):
    enqueue("test:claimed", _message())
    db.session.commit()
    first = mail_sender._claim(10, None, False)
    db.session.commit()
    assert first and mail_sender._claim(10, None, False) == []


def test_a_template_row_is_rendered_when_sent_and_skipped_when_it_no_longer_applies(app, db):
    from donations.core.outbox import enqueue_template, register_template

    seen = []
    register_template(app, "test", lambda ctx: seen.append(ctx) or None)
    enqueue_template("test:tpl", "test", to="a@example.org", subject="S", context={"n": 1})
    db.session.commit()
    assert flush_outbox().skipped == 1
    assert seen == [{"n": 1}]
    row = _row(db, "test:tpl")
    assert row.sent_at is not None and row.last_error == "not sent: no longer applies"


def test_flask_mail_send_sends_what_is_due(make_app, db, smtp_server):
    app = make_app(**smtp_server.settings())
    with app.app_context():  # (the command runs in the current app's context: this one)
        enqueue("test:cli", _message())
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed" in result.output and "Still unsent" not in result.output
    assert len(smtp_server.to("reader@example.org")) == 1


def test_flask_mail_send_says_what_still_waits_for_its_next_try(make_app, db, smtp_server):
    smtp_server.stop()
    app = make_app(**smtp_server.settings())
    with app.app_context():
        enqueue("test:cli-waiting", _message())
        db.session.commit()
        runner = app.test_cli_runner()
        first = runner.invoke(args=["mail", "send"])
        again = runner.invoke(args=["mail", "send"])  # before the retry is due
    assert "0 sent, 1 failed" in first.output, first.output
    assert "0 sent, 0 failed" in again.output
    assert "Still unsent: 1 waiting for their next try (1 after a failure)" in again.output


def test_healthz_and_metrics_show_the_outbox_backlog(make_app, db, smtp_server):
    smtp_server.stop()
    app = make_app(**smtp_server.settings(), METRICS_TOKEN="m" * 32)
    with app.app_context():
        enqueue("test:waiting", _message())
        enqueue("test:failing", _message("b@example.org"))
        db.session.commit()
        mail_sender.send_due(ids=[_row(db, "test:failing").id])
        client = app.test_client()
        health = client.get("/healthz").json
        assert health["checks"]["mail"]["status"] == "degraded"
        detail = health["checks"]["mail"]
        assert (detail["pending"], detail["failing"], detail["given_up"]) == (2, 1, 0)
        scrape = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
        text = scrape.get_data(as_text=True)
        assert "donations_mail_unsent 2.0" in text
        assert "donations_mail_failing 1.0" in text
        assert "donations_mail_oldest_unsent_seconds" in text


def test_production_without_a_mail_server_drops_mail_without_logging_it(app, db, caplog):
    app.config["APP_ENV"] = "production"  # (the Mailer reads it when the sender starts)
    enqueue("test:off", _message())
    db.session.commit()
    assert flush_outbox().skipped == 1
    row = _row(db, "test:off")
    assert row.sent_at is not None and row.last_error == "not sent: MAIL_SERVER is not set"
    assert mail_backlog(utcnow()).failing == 0
    assert "Plain words." not in caplog.text
    assert "MAIL_SERVER is not set; dropped mail" in caplog.text


def test_an_unreachable_server_costs_one_connection_per_pass_not_one_per_mail(
    make_app, db, smtp_server, monkeypatch
):
    import smtplib

    smtp_server.stop()
    tries = []
    real = smtplib.SMTP

    def counted(*args, **kwargs):
        tries.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(smtplib, "SMTP", counted)
    with _smtp_app(make_app, smtp_server):
        for n in range(3):
            enqueue(f"test:unreachable:{n}", _message(f"r{n}@example.org"))
        db.session.commit()
        assert flush_outbox().failed == 3
        assert len(tries) == 1
        assert mail_backlog(utcnow()).failing == 3


def test_flask_mail_work_outlives_a_database_blink(make_app, db, smtp_server, monkeypatch):
    calls = blink_database_once(monkeypatch, mail_sender, "send_due")
    monkeypatch.setattr(mail_sender.dberrors, "backoff", lambda outages: 0.0)
    with _smtp_app(make_app, smtp_server):
        enqueue("test:work", _message())
        db.session.commit()
        looks = iter([False, False, True])
        report = mail_sender.work(stop=lambda: next(looks), idle=0.0)
    assert len(calls) == 2 and report.sent == 1
    assert len(smtp_server.to("reader@example.org")) == 1
