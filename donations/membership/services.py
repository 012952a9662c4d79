"""Who is a member: queries over memberships (no request code here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from donations.extensions import db
from donations.models import Donation, Membership, SubscriptionStatus


def members_among(people: set[int]) -> set[int]:
    """Which of these people are members now (the member rule of Membership.is_member)."""
    if not people:
        return set()
    query = select(Membership.user_id).where(Membership.user_id.in_(people), Membership.is_member)
    return set(db.session.scalars(query.distinct()))


def has_active_membership(user_id: int) -> bool:
    """True when the supporter has a membership that makes them a member."""
    return bool(db.session.scalar(select(Membership.person_is_member(user_id))))


@dataclass(frozen=True)
class MembershipView:
    """One membership as its member sees it."""

    status: str
    is_member: bool  # the member rule, grace included (Membership.is_member)
    interval: str
    interval_count: int
    amount: int
    currency: str
    cancel_at_period_end: bool
    current_period_end: datetime | None
    ended_at: datetime | None

    @property
    def past_due(self) -> bool:
        """True while Stripe retries a failed payment (the card needs fixing)."""
        return self.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)


def memberships_of(user_id: int) -> list[MembershipView]:
    """The person's memberships, current ones first, newest first."""
    rows = db.session.scalars(
        select(Membership)
        .where(Membership.user_id == user_id)
        .order_by(Membership.is_member.desc(), Membership.created_at.desc())
    )
    return [
        MembershipView(
            status=m.status,
            is_member=m.is_member,
            interval=m.interval,
            interval_count=m.interval_count,
            amount=m.amount,
            currency=m.currency,
            cancel_at_period_end=m.cancel_at_period_end,
            current_period_end=m.current_period_end,
            ended_at=m.ended_at,
        )
        for m in rows
    ]


def donations_of(user_id: int, limit: int = 100) -> list[Donation]:
    """The person's payments, newest first, with refunds loaded."""
    return list(
        db.session.scalars(
            select(Donation)
            .where(Donation.user_id == user_id)
            .order_by(Donation.paid_at.desc(), Donation.id.desc())
            .limit(limit)
        )
    )


def membership_state(user_id: int) -> str | None:
    """ "member", "lapsed" (had a membership, none counts now) or None (never had one)."""
    # One query: the navigation asks this on every page a logged-in reader sees.
    member, had = db.session.execute(
        select(
            Membership.person_is_member(user_id),
            exists().where(Membership.user_id == user_id),
        )
    ).one()
    return "member" if member else "lapsed" if had else None
