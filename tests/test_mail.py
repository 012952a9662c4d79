"""The mail interface: SMTP when configured, the log in development, never before the commit."""

from __future__ import annotations

import logging
import smtplib

import pytest
from flask import make_response

from donations.core.mail_sender import deliver_after_response
from donations.core.outbox import enqueue
from donations.mail import Mailer, Message

MESSAGE = Message(to="reader@example.org", subject="Hello", body="Body with a link.")


class FakeSMTP:
    """Records what the mailer asks of an SMTP server."""

    sessions: list[FakeSMTP] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.calls, self.sent = host, port, [], []
        FakeSMTP.sessions.append(self)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.calls.append("quit")

    def starttls(self, context) -> None:
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login {user}")

    def send_message(self, message) -> None:
        self.calls.append("send")
        self.sent.append(message)


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.sessions = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


def test_smtp_uses_starttls_and_login_when_configured(make_app, fake_smtp):
    app = make_app(
        MAIL_SERVER="smtp.example.org",
        MAIL_PORT="2525",
        MAIL_USERNAME="bot",
        MAIL_PASSWORD="smtp-secret",
        MAIL_FROM="News <news@example.org>",
    )
    with app.app_context():
        Mailer.from_config(app.config).send(MESSAGE)
    [session] = fake_smtp.sessions
    assert (session.host, session.port) == ("smtp.example.org", 2525)
    assert session.calls == ["starttls", "login bot", "send", "quit"]
    sent = session.sent[0]
    assert sent["To"] == "reader@example.org" and sent["From"] == "News <news@example.org>"
    assert sent["Subject"] == "Hello" and "Body with a link." in sent.get_content()


def test_smtp_without_tls_or_credentials(make_app, fake_smtp):
    app = make_app(MAIL_SERVER="localhost", MAIL_USE_TLS="0")
    with app.app_context():
        Mailer.from_config(app.config).send(MESSAGE)
    assert fake_smtp.sessions[0].calls == ["send", "quit"]


def test_without_a_mail_server_development_mail_goes_to_the_log(make_app, caplog, fake_smtp):
    caplog.set_level(logging.INFO, logger="donations.mail")
    app = make_app(APP_ENV="development")
    with app.app_context():
        Mailer.from_config(app.config).send(MESSAGE)
    assert fake_smtp.sessions == []
    [record] = [r for r in caplog.records if r.name == "donations.mail"]
    assert record.levelno == logging.INFO
    assert "To: reader@example.org" in record.getMessage()
    assert "Body with a link." in record.getMessage()


def test_without_a_mail_server_production_never_logs_bodies(caplog):
    caplog.set_level(logging.INFO, logger="donations.mail")
    mailer = Mailer("", 587, "", "", True, "x@example.org", "production")
    mailer.send(MESSAGE)
    [record] = [r for r in caplog.records if r.name == "donations.mail"]
    assert record.levelno == logging.WARNING
    assert "Body with a link." not in record.getMessage()


def test_a_failing_mail_server_is_logged_not_raised(caplog, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no server")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    Mailer("smtp.example.org", 587, "", "", True, "x@example.org", "production").send(MESSAGE)
    assert "could not send mail" in caplog.text


def test_mail_is_sent_only_after_the_response_is_delivered(app, db, caplog):
    caplog.set_level(logging.INFO, logger="donations.mail")
    with app.test_request_context():
        mail_id = enqueue("test:after-response", MESSAGE)
        db.session.commit()
        response = deliver_after_response(make_response("done"), [mail_id, None])
    assert caplog.records == []
    response.close()
    assert len([r for r in caplog.records if r.name == "donations.mail"]) == 1
