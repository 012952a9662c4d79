"""Stripe's subscription, dispute and refund statuses, and the rules about them (design §2).

Plain Python with no Flask, SQLAlchemy or stripe import, so the models, the membership
services, the staff statistics and `stripe sync` all read the same rules. The database
keeps the plain strings; a StrEnum member equals (and hashes like) its string.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class SubscriptionStatus(StrEnum):
    """Every status Stripe gives a subscription; a membership's status mirrors it."""

    # This order is the one in the memberships CHECK constraint (migration 0002): keep it.
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    PAUSED = "paused"

    @property
    def is_member(self) -> bool:
        """True when a membership in this status makes its holder a member."""
        # past_due is the grace period while Stripe retries the card; paused is not a member.
        return self in (
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.TRIALING,
            SubscriptionStatus.PAST_DUE,
        )

    @property
    def is_terminal(self) -> bool:
        """True when nothing Stripe says later can bring the subscription back."""
        return self in (SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED)

    @property
    def rank(self) -> int:
        """Where the status sits in a subscription's life (breaks ties between facts)."""
        return _RANK[self]


# Facts stamped with the same second, when their previous_attributes don't tell the order
# (membership.transitions), are ordered by how far along the life they are. Stripe pauses a
# subscription from past_due, at the end of dunning when the account's setting says so
# (docs.stripe.com/billing/revenue-recovery/smart-retries/pause-on-payment-failure), or from
# trialing when a trial ends without a payment method; it leaves paused only when someone
# resumes it, an action of its own, later. So paused comes after past_due, never before it
# in one moment: sharing a rank let a same-second past_due fact undo a pause.
_RANK = {
    SubscriptionStatus.INCOMPLETE: 0,
    SubscriptionStatus.TRIALING: 1,
    SubscriptionStatus.ACTIVE: 2,
    SubscriptionStatus.PAST_DUE: 3,
    SubscriptionStatus.PAUSED: 4,
    SubscriptionStatus.UNPAID: 5,
    SubscriptionStatus.INCOMPLETE_EXPIRED: 6,
    SubscriptionStatus.CANCELED: 6,
}

SUBSCRIPTION_STATUSES = tuple(SubscriptionStatus)
MEMBER_STATUSES = frozenset(s for s in SubscriptionStatus if s.is_member)
TERMINAL_STATUSES = frozenset(s for s in SubscriptionStatus if s.is_terminal)


class DisputeStatus(StrEnum):
    """Every status Stripe gives a dispute (the pinned API's `Dispute.status`)."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    APPEAL_NEEDS_RESPONSE = "appeal_needs_response"
    APPEAL_UNDER_REVIEW = "appeal_under_review"
    WON = "won"
    LOST = "lost"
    PREVENTED = "prevented"

    @property
    def is_closed(self) -> bool:
        """True once the dispute has an outcome (prevented: stopped before a chargeback)."""
        return self in (
            DisputeStatus.WON,
            DisputeStatus.LOST,
            DisputeStatus.WARNING_CLOSED,
            DisputeStatus.PREVENTED,
        )

    @property
    def is_appeal(self) -> bool:
        """True while a lost decision is appealed: the one way a closed dispute reopens."""
        return self in (DisputeStatus.APPEAL_NEEDS_RESPONSE, DisputeStatus.APPEAL_UNDER_REVIEW)

    @property
    def withholds_funds(self) -> bool:
        """True while Stripe holds the disputed amount back from us.

        A formal dispute takes the money when it opens and returns it only when won; an
        inquiry (warning_*) and a prevented dispute never take it.
        """
        return self in (
            DisputeStatus.NEEDS_RESPONSE,
            DisputeStatus.UNDER_REVIEW,
            DisputeStatus.APPEAL_NEEDS_RESPONSE,
            DisputeStatus.APPEAL_UNDER_REVIEW,
            DisputeStatus.LOST,
        )

    @property
    def rank(self) -> int:
        """Where the status sits in a dispute's life (breaks ties between facts)."""
        return _DISPUTE_RANK[self]


_DISPUTE_RANK = {
    DisputeStatus.WARNING_NEEDS_RESPONSE: 0,
    DisputeStatus.WARNING_UNDER_REVIEW: 1,
    DisputeStatus.WARNING_CLOSED: 2,
    DisputeStatus.NEEDS_RESPONSE: 2,
    DisputeStatus.UNDER_REVIEW: 3,
    DisputeStatus.PREVENTED: 4,
    DisputeStatus.WON: 4,
    DisputeStatus.LOST: 4,
    DisputeStatus.APPEAL_NEEDS_RESPONSE: 5,
    DisputeStatus.APPEAL_UNDER_REVIEW: 6,
}


# Stripe's enums are open: a status added after our pinned API version may arrive. Until we
# know what it means, it is an open dispute that holds the money back (the safe reading of
# net revenue), neither closed nor an appeal, ordered among open statuses like under_review.
UNKNOWN_DISPUTE_RANK = _DISPUTE_RANK[DisputeStatus.UNDER_REVIEW]


def known_dispute_status(value: str) -> DisputeStatus | None:
    """The pinned API's dispute status of this name, or None for one we do not know."""
    try:
        return DisputeStatus(value)
    except ValueError:
        return None


def dispute_withholds_funds(status: str) -> bool:
    """Whether Stripe holds the disputed amount back; an unknown status is held."""
    known = known_dispute_status(status)
    return True if known is None else known.withholds_funds


def _dispute_rules(status: str) -> tuple[bool, bool, int]:
    """(closed, appeal, rank) of a status, known or not."""
    known = known_dispute_status(status)
    if known is None:
        return False, False, UNKNOWN_DISPUTE_RANK
    return known.is_closed, known.is_appeal, known.rank


def dispute_fact_wins(
    current: str | None, current_at: datetime | None, new: str, at: datetime
) -> bool:
    """Whether a dispute fact replaces the one we hold, whatever order they came in.

    A closed outcome sticks against the open statuses before it; only an appeal (of a lost
    decision) reopens it, and only when it is newer. Otherwise the newer fact wins.
    """
    if current is None or current_at is None:
        return True
    held_closed, held_appeal, held_rank = _dispute_rules(current)
    told_closed, told_appeal, told_rank = _dispute_rules(new)
    if told_closed and not held_closed and not held_appeal:
        return True
    if held_closed and not told_closed and not told_appeal:
        return False
    if at != current_at:
        return at > current_at
    return told_rank >= held_rank


CLOSED_DISPUTE_STATUSES = frozenset(s for s in DisputeStatus if s.is_closed)


class RefundStatus(StrEnum):
    """Every status Stripe gives a refund; a failed or canceled one gives the money back."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        """True when nothing later changes it: the money went back to the charge."""
        return self in (RefundStatus.FAILED, RefundStatus.CANCELED)

    @property
    def rank(self) -> int:
        """Where the status sits in a refund's life (breaks ties between facts)."""
        return 2 if self.is_final else 1 if self is RefundStatus.SUCCEEDED else 0


def refund_counts(status: str) -> bool:
    """True while a refund takes money off its payment: pending, requires_action, succeeded."""
    return not RefundStatus(status).is_final
