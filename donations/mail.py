"""Outgoing email: SMTP when MAIL_SERVER is set, otherwise the log (for development).

Services build `Message`s and put them in the outbox (core.outbox) in the transaction of the
change they are about; a sender delivers them with a `Mailer` after the commit.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import render_template

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One email: a plain-text body, and an HTML alternative when `html` is set."""

    to: str
    subject: str
    body: str
    html: str = ""


class MailUnavailable(RuntimeError):
    """No way to deliver mail is configured (production without MAIL_SERVER)."""


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

    def deliver(self, message: Message) -> None:
        """Deliver one message, or raise (OSError, SMTPException, MailUnavailable)."""
        if self.server:
            self._smtp(message)
        elif self.environment == "production":
            # Mail may carry reset links: never write bodies to production logs.
            raise MailUnavailable("MAIL_SERVER is not set")
        else:
            log.info(
                "Mail not sent (MAIL_SERVER is empty). To: %s\nSubject: %s\n\n%s",
                message.to,
                message.subject,
                message.body,
            )

    def send(self, message: Message) -> None:
        """Deliver one message; failures are logged, never raised."""
        try:
            self.deliver(message)
        except MailUnavailable:
            log.warning(
                "MAIL_SERVER is not set; dropped mail %r to %s", message.subject, message.to
            )
        except (OSError, smtplib.SMTPException):
            log.exception("could not send mail %r to %s", message.subject, message.to)

    def _smtp(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.body)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        with smtplib.SMTP(self.server, self.port, timeout=15) as smtp:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(email)
        log.info("sent mail %r to %s", message.subject, message.to)
