"""Progress toward the membership goal, as shown by the tracker everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from donations.models import utcnow


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
    """Return the current progress toward MEMBERSHIP_GOAL."""
    # Members are counted from Stripe-confirmed memberships once the webhook issue lands.
    return Progress(members=0, goal=current_app.config["MEMBERSHIP_GOAL"], updated_at=utcnow())
