"""The mail outbox: mails are rows written with the change they are about, sent after it.

A service puts a mail in the outbox (`enqueue`, or `enqueue_template` for one rendered when
sent) inside the transaction of its change: if the change rolls back, so does the mail, and a
cause (its `dedup_key`) gives at most one row however often it is applied (replays, Stripe's
retries, `stripe sync`). core.mail_sender delivers the rows.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from donations.core.providers import MailBacklog, register_mail_backlog
from donations.extensions import db
from donations.mail import Message
from donations.models import OutboxMail, utcnow

TEMPLATES_KEY = "donations.outbox.templates"

# Renders a template row when it is sent; None when the mail no longer applies.
Render = Callable[[dict[str, Any]], Message | None]


def register_template(app: Flask, name: str, render: Render) -> None:
    """Let rows naming `name` be rendered by `render` (a feature's mail, built when sent)."""
    app.extensions.setdefault(TEMPLATES_KEY, {})[name] = render


def register(app: Flask) -> None:
    """Hand the outbox's backlog to /healthz and /metrics."""
    register_mail_backlog(app, mail_backlog)


def new_key(kind: str) -> str:
    """A dedup key for a cause that happens once per request (a reset asked for, a resend)."""
    return f"{kind}:{uuid.uuid4().hex}"


def enqueue(key: str, message: Message) -> int | None:
    """Put a rendered mail in the outbox; its row id, or None when `key` already has one."""
    return _insert(
        {
            "dedup_key": key[:200],
            "recipient": message.to,
            "subject": message.subject[:300],
            "text_body": message.body,
            "html_body": message.html,
        }
    )


def enqueue_template(
    key: str, template: str, *, to: str, subject: str, context: dict[str, Any]
) -> int | None:
    """Put a mail rendered when sent in the outbox; None when `key` already has a row."""
    return _insert(
        {
            "dedup_key": key[:200],
            "recipient": to,
            "subject": subject[:300],
            "template": template,
            "context": context,
        }
    )


def _insert(values: dict[str, Any]) -> int | None:
    table = OutboxMail.__table__
    now = utcnow()
    row = {
        "text_body": "",
        "html_body": "",
        "template": "",
        "context": {},
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        **values,
    }
    statement = _insert_statement(db.session.get_bind().dialect.name)
    return db.session.execute(statement.returning(table.c.id), row).scalar()


@functools.lru_cache(maxsize=4)
def _insert_statement(dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(OutboxMail.__table__).on_conflict_do_nothing(index_elements=["dedup_key"])


def mail_backlog(now: datetime) -> MailBacklog:
    """Unsent mails, the oldest one's age, those failing (retrying) and those given up."""
    unsent = OutboxMail.sent_at.is_(None)
    pending, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMail.created_at)).where(
            unsent, OutboxMail.next_attempt_at.is_not(None)
        )
    ).one()
    failing = db.session.scalar(
        select(func.count()).where(
            unsent, OutboxMail.next_attempt_at.is_not(None), OutboxMail.last_error != ""
        )
    )
    given_up = db.session.scalar(
        select(func.count()).where(unsent, OutboxMail.next_attempt_at.is_(None))
    )
    age = None
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        age = max((now - oldest).total_seconds(), 0.0)
    return MailBacklog(
        pending=int(pending),
        oldest_pending_seconds=age,
        failing=int(failing or 0),
        given_up=int(given_up or 0),
    )
