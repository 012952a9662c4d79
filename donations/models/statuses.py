"""Stripe's subscription, dispute and refund statuses, and the rules about them (design §2).

Plain Python with no Flask, SQLAlchemy or stripe import, so the models, the membership
services, the staff statistics and `stripe sync` all read the same rules. The database
keeps the plain strings; a StrEnum member equals (and hashes like) its string.
"""

from __future__ import annotations

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


# Facts stamped with the same second are ordered by how far along the life they are.
_RANK = {
    SubscriptionStatus.INCOMPLETE: 0,
    SubscriptionStatus.TRIALING: 1,
    SubscriptionStatus.ACTIVE: 2,
    SubscriptionStatus.PAST_DUE: 3,
    SubscriptionStatus.PAUSED: 3,
    SubscriptionStatus.UNPAID: 4,
    SubscriptionStatus.INCOMPLETE_EXPIRED: 5,
    SubscriptionStatus.CANCELED: 5,
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
        """True once the dispute has an outcome; a closed dispute stays closed."""
        return self in (DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.WARNING_CLOSED)


CLOSED_DISPUTE_STATUSES = frozenset(s for s in DisputeStatus if s.is_closed)


def dispute_is_closed(status: str | None) -> bool:
    """True for a closed dispute status; an unknown or missing status counts as open."""
    return status in CLOSED_DISPUTE_STATUSES


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
