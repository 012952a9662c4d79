"""What site-wide infrastructure reads from the features, handed to it when the app is built.

Core (health checks, /metrics) sits below the features and imports none of them: payments
registers its webhook backlog and worker count and the mail outbox's backlog, membership its
member count (create_app does both). Core only knows the shapes it reads, defined here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from flask import Flask, current_app

KEY = "donations.providers"
T = TypeVar("T")


@dataclass(frozen=True)
class Backlog:
    """Pending events (received, not processed), the oldest one's age, and recent failures."""

    pending: int
    oldest_pending_seconds: float | None
    failed_recently: int


@dataclass(frozen=True)
class MailBacklog:
    """Unsent mails, the oldest one's age, those failing (to be retried) and those given up."""

    pending: int
    oldest_pending_seconds: float | None
    failing: int
    given_up: int


@dataclass
class Providers:
    """The registered readers; a missing one fails loudly where it is first needed."""

    backlog: Callable[[datetime], Backlog] | None = None
    live_workers: Callable[[datetime, float], int] | None = None
    members: Callable[[], int] | None = None
    mail_backlog: Callable[[datetime], MailBacklog] | None = None


def _of(app: Flask) -> Providers:
    return app.extensions.setdefault(KEY, Providers())


def register_webhook_ledger(
    app: Flask,
    backlog: Callable[[datetime], Backlog],
    live_workers: Callable[[datetime, float], int],
) -> None:
    """The webhook ledger's backlog as of a moment, and the queue workers alive within seconds."""
    providers = _of(app)
    providers.backlog = backlog
    providers.live_workers = live_workers


def register_members(app: Flask, members: Callable[[], int]) -> None:
    """How many people count as members now."""
    _of(app).members = members


def register_mail_backlog(app: Flask, backlog: Callable[[datetime], MailBacklog]) -> None:
    """The mail outbox's backlog as of a moment."""
    _of(app).mail_backlog = backlog


def _need(value: T | None, what: str) -> T:
    if value is None:  # create_app registers them all: only a half-built app gets here
        raise RuntimeError(f"no {what} registered with donations.core.providers")
    return value


def webhook_backlog(now: datetime) -> Backlog:
    """The registered webhook backlog as of `now`."""
    return _need(_of(current_app).backlog, "webhook backlog")(now)


def live_workers(now: datetime, liveness_seconds: float) -> int:
    """The registered count of queue workers that beat within `liveness_seconds`."""
    return _need(_of(current_app).live_workers, "worker count")(now, liveness_seconds)


def members() -> int:
    """The registered count of members now."""
    return _need(_of(current_app).members, "member count")()


def mail_backlog(now: datetime) -> MailBacklog:
    """The registered mail outbox backlog as of `now`."""
    return _need(_of(current_app).mail_backlog, "mail backlog")(now)
