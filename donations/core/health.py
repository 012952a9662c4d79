"""Health of each dependency: ok, degraded (the site works, with less) or down."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from donations.core.providers import live_workers, mail_backlog, webhook_backlog
from donations.extensions import db, limiter

OK, DEGRADED, DOWN = "ok", "degraded", "down"


@dataclass(frozen=True)
class Check:
    """One dependency's state and what a person on call needs to know about it."""

    status: str
    detail: dict[str, Any] = field(default_factory=dict)


def check_database() -> Check:
    """A round trip to the database; down when it fails."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Check(DOWN, {"error": type(exc).__name__})
    return Check(OK)


def check_redis() -> Check:
    """Redis, which holds shared rate limits: degraded (limits per process) when unreachable."""
    if not current_app.config["REDIS_URL"]:
        return Check(OK, {"configured": False, "rate_limits": "in process"})
    # Public API only: the storage's own ping, and whether Flask-Limiter's strategy in use
    # counts in that storage or in its in-memory fallback.
    if limiter.storage.check() and limiter.limiter.storage is limiter.storage:
        return Check(OK, {"configured": True, "rate_limits": "redis"})
    return Check(DEGRADED, {"configured": True, "rate_limits": "in process (Redis unreachable)"})


def check_webhooks(now: datetime) -> Check:
    """The webhook ledger: degraded while events wait too long (WEBHOOK_STUCK_SECONDS) or
    recently failed; with WEBHOOK_QUEUE, down while events wait and no worker is alive.

    The endpoint answers 200 to every event it stores, so Stripe never retries: with no worker
    alive nothing would apply them, and only this check says so.
    """
    config = current_app.config
    try:
        backlog = webhook_backlog(now)
        queue = bool(config["WEBHOOK_QUEUE"])
        workers = live_workers(now, config["WEBHOOK_WORKER_LIVENESS_SECONDS"]) if queue else None
    except SQLAlchemyError:
        db.session.rollback()
        return Check(DOWN, {"error": "ledger unreadable"})
    stuck = (backlog.oldest_pending_seconds or 0) > config["WEBHOOK_STUCK_SECONDS"]
    status = DEGRADED if stuck or backlog.failed_recently else OK
    if queue and backlog.pending and not workers:
        status = DOWN
    detail: dict[str, Any] = {
        "pending": backlog.pending,
        "oldest_pending_seconds": backlog.oldest_pending_seconds,
        "failed_24h": backlog.failed_recently,
    }
    if queue:
        detail["workers_live"] = workers
    return Check(status, detail)


MAIL_STUCK_SECONDS = 900  # a mail unsent for 15 minutes: the sender is down, or SMTP is


def check_mail(now: datetime) -> Check:
    """The mail outbox: degraded while a mail waits too long, fails, or was given up."""
    try:
        backlog = mail_backlog(now)
    except SQLAlchemyError:
        db.session.rollback()
        return Check(DOWN, {"error": "outbox unreadable"})
    stuck = (backlog.oldest_pending_seconds or 0) > MAIL_STUCK_SECONDS
    bad = stuck or backlog.failing or backlog.given_up
    return Check(DEGRADED if bad else OK, asdict(backlog))


def overall(checks: dict[str, Check]) -> str:
    """Down if the database is down, or events wait with no worker to apply them; degraded if
    anything is not ok; else ok."""
    if checks["database"].status == DOWN or checks["webhooks"].status == DOWN:
        return DOWN
    return OK if all(c.status == OK for c in checks.values()) else DEGRADED


def health(now: datetime) -> tuple[str, dict[str, Check]]:
    """Every dependency's check and the site's overall state."""
    checks = {"database": check_database()}
    checks["redis"] = check_redis()
    checks["webhooks"] = check_webhooks(now) if checks["database"].status == OK else Check(DOWN)
    checks["mail"] = check_mail(now) if checks["database"].status == OK else Check(DOWN)
    return overall(checks), checks
