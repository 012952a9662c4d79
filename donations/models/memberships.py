"""Memberships (Stripe subscriptions), their dated member-count facts, and the live counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    CheckConstraint,
    ColumnElement,
    Exists,
    ForeignKey,
    Index,
    String,
    and_,
    event,
    exists,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from donations.models.base import Base, sql_in, utcnow
from donations.models.statuses import MEMBER_STATUSES, SUBSCRIPTION_STATUSES

# A membership bills by the month or the year (the choices of the support form add "once").
MEMBERSHIP_INTERVALS = ("month", "year")


class Membership(Base):
    """One recurring Stripe subscription of one supporter; status mirrors Stripe's."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(sql_in("status", SUBSCRIPTION_STATUSES), name="status_known"),
        CheckConstraint(sql_in("interval", MEMBERSHIP_INTERVALS), name="interval_known"),
        CheckConstraint("interval_count >= 1", name="interval_count_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("length(currency) = 3 AND currency = lower(currency)", name="currency_iso"),
        Index("ix_memberships_user_id_status", "user_id", "status"),
        Index("ix_memberships_status_current_period_end", "status", "current_period_end"),
        # The dashboard's revenue and interval breakdown read only this index (no table rows).
        Index(
            "ix_memberships_status_currency_interval_amount",
            "status",
            "currency",
            "interval",
            "amount",
        ),
        # New memberships per source article over a recent window.
        Index("ix_memberships_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    interval: Mapped[str] = mapped_column(String(8))
    # Stripe's interval_count: a quarterly plan is interval "month", interval_count 3.
    interval_count: Mapped[int] = mapped_column(default=1)
    amount: Mapped[int]  # minor units per billing period, including any fee the member covers
    # What the subscription brings in per billing period: every item (quantity x price), net
    # of discounts in effect; 0 while in a trial or while collection is paused. None (rows
    # from before it was kept): `amount` stands for it (membership.totals.billing_key).
    recurring_amount: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3))
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    current_period_end: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    source_article: Mapped[str | None] = mapped_column(String(120))
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    # Stripe's `created` of the newest event applied: older facts never overwrite newer ones.
    fact_at: Mapped[datetime | None]
    # What the subscription was just before that event, when its previous_attributes said
    # (membership.transitions.footprint): breaks a tie with a fact of the same second.
    fact_before: Mapped[str | None] = mapped_column(String(255))
    # While past_due: when its last paid period ended (Stripe opens the next period before
    # charging for it, so this is the start of the unpaid period when the renewal failed; kept
    # while later facts keep it past_due, cleared when it leaves past_due) ...
    past_due_since: Mapped[datetime | None]
    # ... when the grace (MEMBER_GRACE_DAYS after past_due_since) runs out, and whether it
    # has. Stored, so the member rule reads the same in SQL and in Python and the live
    # counter moves exactly when this flag does (membership.grace keeps it in time).
    grace_ends_at: Mapped[datetime | None]
    grace_expired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # The member rule (design notes §2), in Python and in SQL side by side: a person is a
    # member when at least one of their memberships is; a past_due one only in its grace.
    @hybrid_property
    def is_member(self) -> bool:
        """True when this membership makes its supporter a member."""
        return self.status in MEMBER_STATUSES and not self.grace_expired

    @is_member.inplace.expression
    @classmethod
    def _is_member_expression(cls) -> ColumnElement[bool]:
        # Sorted: the same SQL text (and statement cache key) in every process.
        return and_(cls.status.in_(sorted(MEMBER_STATUSES)), cls.grace_expired.is_(False))

    @classmethod
    def person_is_member(cls, user_id: int | ColumnElement[int]) -> Exists:
        """SQL: the person (an id, or a correlated column such as User.id) is a member."""
        return exists().where(cls.user_id == user_id, cls.is_member)

    def __repr__(self) -> str:
        return f"<Membership {self.stripe_subscription_id} {self.status} user={self.user_id}>"


class MemberChange(Base):
    """A dated fact: one person became a member (+1) or stopped being one (-1).

    Written in the same transaction as the membership change, so history never drifts.
    """

    __tablename__ = "member_changes"
    __table_args__ = (
        CheckConstraint("delta IN (1, -1)", name="delta_unit"),
        Index("ix_member_changes_occurred_at", "occurred_at"),
        # The dashboard's daily history sums deltas from the index alone.
        Index("ix_member_changes_occurred_at_delta", "occurred_at", "delta"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="SET NULL")
    )
    delta: Mapped[int]
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<MemberChange user={self.user_id} {self.delta:+d} at {self.occurred_at}>"


class MemberCounter(Base):
    """The one-row live member count, kept in step with every membership change."""

    __tablename__ = "member_counter"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("members >= 0", name="members_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    members: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<MemberCounter {self.members}>"


# The counter's single row exists from the moment its table does (create_all and migrations).
event.listen(
    MemberCounter.__table__,
    "after_create",
    DDL("INSERT INTO member_counter (id, members, updated_at) VALUES (1, 0, CURRENT_TIMESTAMP)"),
)


class RecurringTotal(Base):
    """How many member memberships bill one amount, per currency and billing period.

    Kept in step with every membership change (like MemberCounter), so the dashboard's
    recurring revenue reads a handful of rows instead of every membership.
    """

    __tablename__ = "recurring_totals"
    __table_args__ = (
        CheckConstraint("memberships >= 0", name="memberships_not_negative"),
        CheckConstraint(sql_in("interval", MEMBERSHIP_INTERVALS), name="interval_known"),
        CheckConstraint("interval_count >= 1", name="interval_count_positive"),
    )

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    interval_count: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int] = mapped_column(primary_key=True)
    memberships: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return (
            f"<RecurringTotal {self.memberships}x {self.amount} {self.currency}"
            f"/{self.interval_count} {self.interval}>"
        )
