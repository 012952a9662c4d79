"""The webhook backlog: events stored but not yet processed, recent failures, live workers."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from donations.accounts.claims import claim_mail
from donations.core import outbox
from donations.core.providers import Backlog, register_webhook_ledger
from donations.extensions import db
from donations.membership.records import CLAIM_MAIL
from donations.models import StripeEvent, WebhookWorker

FAILED_WINDOW = timedelta(hours=24)


def webhook_backlog(now: datetime) -> Backlog:
    """The ledger's backlog as of `now` (two indexed queries on status and received_at)."""
    pending, oldest = db.session.execute(
        select(func.count(), func.min(StripeEvent.received_at)).where(
            StripeEvent.status == "received"
        )
    ).one()
    failed = db.session.scalar(
        select(func.count()).where(
            StripeEvent.status == "failed", StripeEvent.received_at >= now - FAILED_WINDOW
        )
    )
    age = None
    if oldest is not None:
        # SQLite hands back naive datetimes for aggregates; the column stores UTC.
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        age = max((now - oldest).total_seconds(), 0.0)
    return Backlog(
        pending=int(pending), oldest_pending_seconds=age, failed_recently=int(failed or 0)
    )


def live_workers(now: datetime, liveness_seconds: float) -> int:
    """Queue workers (`flask webhooks work`) that beat within the last `liveness_seconds`."""
    since = now - timedelta(seconds=liveness_seconds)
    return int(db.session.scalar(select(func.count()).where(WebhookWorker.beat_at >= since)) or 0)


def register(app: Flask) -> None:
    """Hand the backlog and the worker count to the health check and /metrics; and the mail
    outbox's backlog, with the pay-first claim mail the webhooks put in it."""
    register_webhook_ledger(app, webhook_backlog, live_workers)
    outbox.register(app)
    outbox.register_template(app, CLAIM_MAIL, claim_mail)
