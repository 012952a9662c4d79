"""Mails caused by payments go through the outbox (issue 21, must-hold 2): with the mail server
down during payments every mail arrives once after it is back, and a replayed (or synced)
`checkout.session.completed` yields its claim mail exactly once, whatever repeats after it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from donations.core import mail_sender
from donations.core.outbox import enqueue, mail_backlog
from donations.extensions import db as _db
from donations.mail import Message
from donations.models import OutboxMail, StripeEvent, utcnow
from donations.payments import ledger
from tests.conftest import blink_database_once, flush_outbox
from tests.factories import login, make_user, start_checkout

CLAIM_SUBJECT = "Welcome: your membership receipt and account link"


@pytest.fixture
def delivery(smtp_server):
    """Every app of these tests mails the real SMTP server."""
    return smtp_server.settings()


def _pay(client, emulator, email: str, n: int = 0) -> str:
    session_id = start_checkout(
        client, interval="month", amount="8", attempt=f"attempt-token-{n:010d}"
    )
    emulator.pay_checkout(session_id, "4242424242424242", email=email)
    emulator.deliver_pending()
    return session_id


def _flush_later(hours: float = 2) -> None:
    """Send what is due once every retry's wait has passed."""
    with time_machine.travel(utcnow() + timedelta(hours=hours), tick=False):
        flush_outbox()


def _completed_event() -> StripeEvent:
    return _db.session.scalar(
        select(StripeEvent).where(StripeEvent.type == "checkout.session.completed")
    )


def test_with_the_mail_server_down_during_payments_every_mail_arrives_once_after(
    client, db, emulator, smtp_server
):
    smtp_server.stop()
    readers = [f"reader{i}@example.org" for i in range(3)]
    for n, email in enumerate(readers):
        _pay(client, emulator, email, n)
    assert client.post("/password/forgot", data={"email": "nobody@example.org"}).status_code
    assert smtp_server.messages == []
    backlog = mail_backlog(utcnow())
    assert (backlog.pending, backlog.failing) == (3, 3)  # each tried once after its commit
    flush_outbox()  # nothing is due yet: they wait their backoff
    assert db.session.scalar(select(OutboxMail.attempts).limit(1)) == 1
    smtp_server.start()
    _flush_later()
    _flush_later(hours=4)  # a later pass sends nothing again
    for event in db.session.scalars(select(StripeEvent)).all():
        emulator.resend(event.stripe_event_id)  # Stripe delivers everything once more
    emulator.deliver_pending()
    _flush_later(hours=6)
    for email in readers:
        [mail] = smtp_server.to(email)
        assert mail["Subject"] == CLAIM_SUBJECT
        assert "/account/claim/" in mail.get_content()
    assert len(smtp_server.messages) == 3
    assert mail_backlog(utcnow()).pending == 0


@pytest.mark.parametrize("replay", ["cli", "staff"])
def test_a_replayed_checkout_completed_yields_its_claim_mail_once(
    replay, app, client, db, emulator, smtp_server, runner, monkeypatch
):
    def broken(fact, at):
        raise RuntimeError("database hiccup")

    with monkeypatch.context() as patch:
        patch.setitem(ledger.HANDLERS, "checkout.session.completed", broken)
        _pay(client, emulator, "replayed@example.org")
    event = _completed_event()
    assert event.status == "failed"
    _flush_later()
    assert smtp_server.to("replayed@example.org") == []  # the failed event wrote no mail
    if replay == "cli":
        result = runner.invoke(args=["stripe", "replay", event.stripe_event_id])
        assert result.exit_code == 0, result.output
        assert "Mail: 1 sent" in result.output  # sent at once, not left for the worker
    else:
        staff = app.test_client()
        login(staff, make_user(email="editor@example.org", is_staff=True))
        assert staff.post(f"/staff/events/{event.stripe_event_id}/replay").status_code == 302
        _flush_later()
    assert len(smtp_server.to("replayed@example.org")) == 1
    emulator.resend(event.stripe_event_id)  # Stripe's own retry, later
    emulator.deliver_pending()
    assert runner.invoke(args=["stripe", "replay", event.stripe_event_id]).exit_code == 0
    assert runner.invoke(args=["stripe", "sync"]).exit_code == 0
    _flush_later(hours=3)
    [mail] = smtp_server.to("replayed@example.org")
    assert mail["Subject"] == CLAIM_SUBJECT


def test_stripe_sync_sends_the_claim_mail_a_lost_webhook_should_have_once(
    client, db, emulator, smtp_server, runner, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setitem(ledger.HANDLERS, "checkout.session.completed", lambda fact, at: None)
        _pay(client, emulator, "synced@example.org")  # processed, but did nothing: lost
    assert smtp_server.to("synced@example.org") == []
    for _ in range(2):
        result = runner.invoke(args=["stripe", "sync"])
        assert result.exit_code == 0, result.output
    _flush_later()
    assert len(smtp_server.to("synced@example.org")) == 1


def test_the_webhook_worker_sends_mail_and_survives_a_failing_sender(
    make_app, smtp_server, monkeypatch
):

    from donations.payments.queue import work

    app = make_app(**smtp_server.settings(), WEBHOOK_QUEUE="1")
    with app.app_context():
        enqueue("test:worker", Message(to="w@example.org", subject="S", body="B"))
        _db.session.commit()
        calls = blink_database_once(monkeypatch, mail_sender, "send_due")
        config = app.config
        stops = iter([False, False, True])
        monkeypatch.setattr("donations.payments.worker_loop.MAIL_EVERY", 0.0)
        work(
            livemode=not config["STRIPE_TEST_MODE"],
            installation=config["INSTALLATION_TAG"],
            stop=lambda: next(stops),
            idle=0.0,
        )
        assert len(calls) >= 2
        assert len(smtp_server.to("w@example.org")) == 1


@pytest.mark.postgres_only
def test_two_senders_never_send_one_mail_twice(make_app, smtp_server):
    app = make_app(**smtp_server.settings())
    with app.app_context():
        for i in range(60):
            enqueue(f"test:race:{i}", Message(to=f"r{i}@example.org", subject="S", body="B"))
        _db.session.commit()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with app.app_context():
                start.wait()
                while mail_sender.send_due(limit=5).sent:
                    pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    got = sorted(m["To"] for m in smtp_server.messages)
    assert got == sorted(f"r{i}@example.org" for i in range(60))  # each once, none twice
