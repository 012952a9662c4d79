"""Progress toward the membership goal, as shown by the tracker everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import distinct, func, select

from donations.extensions import db
from donations.models import MemberCounter, Membership, utcnow


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


def get_progress() -> Progress:
    """Return the current progress toward MEMBERSHIP_GOAL (one primary-key read)."""
    # The counter is kept in step with every membership change (membership.transitions),
    # so reading it costs the same at 100 members or 1,000,000.
    # Two columns by primary key, no ORM identity map: this runs on every page view.
    row = db.session.execute(
        select(MemberCounter.members, MemberCounter.updated_at).where(MemberCounter.id == 1)
    ).first()
    return Progress(
        members=row.members if row else 0,
        goal=current_app.config["MEMBERSHIP_GOAL"],
        updated_at=row.updated_at if row else utcnow(),
    )


def recount_members() -> int:
    """Count members from scratch: people with at least one membership in a member status."""
    return (
        db.session.scalar(
            select(func.count(distinct(Membership.user_id))).where(Membership.is_member)
        )
        or 0
    )
