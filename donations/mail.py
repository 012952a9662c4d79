"""Outgoing email: SMTP when MAIL_SERVER is set, otherwise the log (for development).

Services build `Message`s; views send them only after the database commit, and after the
response has gone out (`send_after_response`), so a slow mail server never delays a page
and a reset request takes the same time whether or not the account exists.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import Response, current_app, render_template

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One plain-text email."""

    to: str
    subject: str
    body: str


def compose(template: str, to: str, subject: str, **context: Any) -> Message:
    """Render a plain-text template from templates/mail/ into a Message."""
    return Message(to=to, subject=subject, body=render_template(f"mail/{template}", **context))


@dataclass(frozen=True)
class Mailer:
    """Sends messages with settings captured from the app, so it works after the request."""

    server: str
    port: int
    username: str
    password: str
    use_tls: bool
    sender: str
    environment: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Mailer:
        """Capture the MAIL_* settings of an app."""
        return cls(
            server=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
            use_tls=config["MAIL_USE_TLS"],
            sender=config["MAIL_FROM"],
            environment=config["APP_ENV"],
        )

    def send(self, message: Message) -> None:
        """Deliver one message; failures are logged, never raised (the work is already saved)."""
        try:
            if self.server:
                self._smtp(message)
            elif self.environment == "production":
                # Mail may carry reset links: never write bodies to production logs.
                log.warning(
                    "MAIL_SERVER is not set; dropped mail %r to %s", message.subject, message.to
                )
            else:
                log.info(
                    "Mail not sent (MAIL_SERVER is empty). To: %s\nSubject: %s\n\n%s",
                    message.to,
                    message.subject,
                    message.body,
                )
        except (OSError, smtplib.SMTPException):
            log.exception("could not send mail %r to %s", message.subject, message.to)

    def _smtp(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.body)
        with smtplib.SMTP(self.server, self.port, timeout=15) as smtp:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(email)
        log.info("sent mail %r to %s", message.subject, message.to)


def send(*messages: Message) -> None:
    """Send now, with the current app's settings (for commands and background work)."""
    mailer = Mailer.from_config(current_app.config)
    for message in messages:
        mailer.send(message)


def send_after_response(response: Response, messages: Iterable[Message | None]) -> Response:
    """Send the messages once the response has been delivered; call after the commit."""
    mailer = Mailer.from_config(current_app.config)
    for message in messages:
        if message is not None:
            response.call_on_close(lambda m=message: mailer.send(m))
    return response


def send_in_background(messages: Iterable[Message]) -> None:
    """Send in a thread of their own; call after the commit.

    For answers to machines (the webhook): a development server may skip the response's
    close callbacks when the client hangs up first, and Stripe never waits for our mail.
    """
    pending = [message for message in messages if message is not None]
    if not pending:
        return
    mailer = Mailer.from_config(current_app.config)
    threading.Thread(
        target=lambda: [mailer.send(m) for m in pending], name="mail", daemon=True
    ).start()
