"""Who is a member: queries over memberships (no request code here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from donations.extensions import db
from donations.facts.subscription_state import SubscriptionState, stored
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


@dataclass(frozen=True, kw_only=True)
class MembershipView(SubscriptionState):
    """One membership as its member sees it."""

    is_member: bool  # the member rule, grace included (Membership.is_member)

    @property
    def payment_failed(self) -> bool:
        """True when a payment failed and the card needs fixing (past_due or unpaid)."""
        return self.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)


def memberships_of(user_id: int) -> list[MembershipView]:
    """The person's memberships, current ones first, newest first."""
    rows = db.session.scalars(
        select(Membership)
        .where(Membership.user_id == user_id)
        .order_by(Membership.is_member.desc(), Membership.created_at.desc())
    )
    return [MembershipView(**stored(m), is_member=m.is_member) for m in rows]


def member_since(memberships: list[MembershipView]) -> datetime | None:
    """When the person's current membership started (the earliest of those that count)."""
    starts = [m.started_at for m in memberships if m.is_member and m.started_at is not None]
    return min(starts, default=None)


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
