"""Health of each dependency: ok, degraded (the site works, with less) or down."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from donations.core.ratelimit import FallbackRedisStorage
from donations.extensions import db, limiter
from donations.payments.backlog import webhook_backlog

OK, DEGRADED, DOWN = "ok", "degraded", "down"
# A pending event older than this means processing is stuck (Stripe retries meanwhile).
BACKLOG_STUCK_SECONDS = 300


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
    storage = limiter.storage
    if not isinstance(storage, FallbackRedisStorage):
        return Check(OK, {"configured": False, "rate_limits": "in process"})
    if storage.check():
        return Check(OK, {"configured": True, "rate_limits": "redis"})
    return Check(DEGRADED, {"configured": True, "rate_limits": "in process (Redis unreachable)"})


def check_webhooks(now: datetime) -> Check:
    """The webhook ledger: degraded while events wait too long or recently failed."""
    try:
        backlog = webhook_backlog(now)
    except SQLAlchemyError:
        db.session.rollback()
        return Check(DOWN, {"error": "ledger unreadable"})
    stuck = (backlog.oldest_pending_seconds or 0) > BACKLOG_STUCK_SECONDS
    status = DEGRADED if stuck or backlog.failed_recently else OK
    return Check(
        status,
        {
            "pending": backlog.pending,
            "oldest_pending_seconds": backlog.oldest_pending_seconds,
            "failed_24h": backlog.failed_recently,
        },
    )


def overall(checks: dict[str, Check]) -> str:
    """Down if the database is down; degraded if anything is not ok; else ok."""
    if checks["database"].status == DOWN:
        return DOWN
    return OK if all(c.status == OK for c in checks.values()) else DEGRADED


def health(now: datetime) -> tuple[str, dict[str, Check]]:
    """Every dependency's check and the site's overall state."""
    checks = {"database": check_database()}
    checks["redis"] = check_redis()
    checks["webhooks"] = check_webhooks(now) if checks["database"].status == OK else Check(DOWN)
    return overall(checks), checks
