"""Progress toward the membership goal, as shown by the tracker everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import distinct, func, select, update

from donations.core.cache import get_cache, invalidate_on_commit
from donations.core.providers import register_members
from donations.extensions import db
from donations.membership import pending
from donations.models import MemberCounter, Membership, utcnow

CACHE_KEY = "progress"


@dataclass(frozen=True)
class Progress:
    """Members now, the goal, the percent reached and how many remain."""

    members: int
    goal: int
    updated_at: datetime

    @property
    def percent(self) -> float:
        """Share of the goal reached, 0 to 100 (capped), one decimal."""
        return min(100.0, round(self.members * 100 / self.goal, 1))

    @property
    def remaining(self) -> int:
        """Members still needed; zero once the goal is reached."""
        return max(0, self.goal - self.members)

    @property
    def reached(self) -> bool:
        """True once the goal is met or passed."""
        return self.members >= self.goal


def get_progress(*, fresh: bool = False) -> Progress:
    """Return the current progress toward MEMBERSHIP_GOAL, at most CACHE_SECONDS old.

    fresh=True reads the counter itself: for the thanks page, which must show the member who
    was just counted, though a read that raced the count's commit may have cached the number
    from before it (for at most CACHE_SECONDS).
    """
    if fresh:
        get_cache().delete(CACHE_KEY)
    members, updated_at = get_cache().get(CACHE_KEY, _read_counter)
    return Progress(
        members=members,
        goal=current_app.config["MEMBERSHIP_GOAL"],
        updated_at=datetime.fromisoformat(updated_at),
    )


def register(app: Flask) -> None:
    """Hand the member count (the tracker's, cached) to /metrics."""
    register_members(app, lambda: get_progress().members)


def _read_counter() -> tuple[int, str]:
    # The counter is kept in step with every membership change (move_counter), so reading
    # it costs the same at 100 members or 1,000,000: two columns by primary key, no ORM.
    # Its own connection, not the request's session: only committed numbers may be cached,
    # and a page served from caches then opens no session at all.
    with db.engine.connect() as conn:
        row = conn.execute(
            select(MemberCounter.members, MemberCounter.updated_at).where(MemberCounter.id == 1)
        ).first()
    return (row.members if row else 0), (row.updated_at if row else utcnow()).isoformat()


def move_counter(delta: int | None = None, *, to: int | None = None) -> None:
    """Move the live member counter by delta (or set it), in the caller's transaction.

    The only writer of the counter, so the only place the cached progress is invalidated:
    the cache lets go of the old number when this transaction commits. Inside a worker's
    batch (membership.pending) a move is collected, to be written at its end.
    """
    collected = pending.current()
    if collected is not None and to is None and delta is not None:
        collected.members += delta
        return
    value = MemberCounter.members + delta if to is None else to
    counter = update(MemberCounter).where(MemberCounter.id == 1)
    db.session.execute(counter.values(members=value, updated_at=utcnow()))
    invalidate_on_commit(db.session(), CACHE_KEY)


def recount_members() -> int:
    """Count members from scratch: people with at least one membership in a member status."""
    return (
        db.session.scalar(
            select(func.count(distinct(Membership.user_id))).where(Membership.is_member)
        )
        or 0
    )
