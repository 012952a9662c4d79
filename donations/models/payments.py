"""Payments: Checkout attempts we started, and donations (payments Stripe confirmed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from donations.models.base import Base, sql_in, utcnow
from donations.models.statuses import RefundStatus

DONATION_KINDS = ("gift", "membership_first", "membership_renewal")
CHECKOUT_INTERVALS = ("once", "month", "year")
CHECKOUT_STATUSES = ("open", "complete", "failed", "expired")
REFUND_STATUSES = tuple(RefundStatus)


class CheckoutAttempt(Base):
    """A Checkout Session we created: what the reader chose, before Stripe confirms it."""

    __tablename__ = "checkout_attempts"
    __table_args__ = (
        CheckConstraint(sql_in("interval", CHECKOUT_INTERVALS), name="interval_known"),
        CheckConstraint(sql_in("status", CHECKOUT_STATUSES), name="status_known"),
        CheckConstraint("amount > 0 AND fee_amount >= 0 AND fee_amount < amount", name="amounts"),
        CheckConstraint("length(currency) = 3 AND currency = lower(currency)", name="currency_iso"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    interval: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int]  # gross minor units the reader pays per interval
    fee_amount: Mapped[int] = mapped_column(default=0)  # part of amount that covers the fee
    currency: Mapped[str] = mapped_column(String(3))
    source_article: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="open")
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<CheckoutAttempt {self.stripe_session_id} {self.interval} {self.status}>"


class Donation(Base):
    """One payment: a one-time gift, or the first or a renewal payment of a membership.

    A gift is known by its payment intent; a membership payment by its invoice (Stripe's
    current API names the invoice's payment intent only in some events). Refunds and
    disputes are facts about a payment intent and live in PaymentAdjustment.
    """

    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint(sql_in("kind", DONATION_KINDS), name="kind_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("fee_amount >= 0 AND fee_amount <= amount", name="fee_within_amount"),
        CheckConstraint(
            "stripe_payment_intent_id IS NOT NULL OR stripe_invoice_id IS NOT NULL",
            name="has_stripe_key",
        ),
        CheckConstraint("length(currency) = 3 AND currency = lower(currency)", name="currency_iso"),
        Index("ix_donations_paid_at", "paid_at"),
        # Gifts of the last 30 days without reading membership payments.
        Index("ix_donations_kind_paid_at", "kind", "paid_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), index=True)
    # Linked by Stripe id, not a foreign key: events may arrive before the membership exists.
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int]  # gross minor units
    fee_amount: Mapped[int] = mapped_column(default=0)  # of which the reader covered our fee
    currency: Mapped[str] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(320))
    source_article: Mapped[str | None] = mapped_column(String(120))
    paid_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    adjustment: Mapped[PaymentAdjustment | None] = relationship(
        primaryjoin="foreign(Donation.stripe_payment_intent_id)"
        " == PaymentAdjustment.stripe_payment_intent_id",
        viewonly=True,
        # Not a join: rows of donations are locked FOR UPDATE, which an outer join forbids.
        lazy="selectin",
    )

    @property
    def amount_refunded(self) -> int:
        """Minor units refunded so far (partial refunds add up)."""
        return self.adjustment.amount_refunded if self.adjustment else 0

    @property
    def amount_disputed(self) -> int:
        """Minor units a dispute holds back: from its opening until it is won (all if lost)."""
        return self.adjustment.amount_disputed if self.adjustment else 0

    @property
    def net_amount(self) -> int:
        """What we keep after refunds and disputes, in minor units."""
        return self.amount - self.amount_refunded - self.amount_disputed

    @property
    def disputed(self) -> bool:
        """True once a dispute was opened on this payment."""
        return bool(self.adjustment and self.adjustment.disputed)

    def __repr__(self) -> str:
        key = self.stripe_invoice_id or self.stripe_payment_intent_id
        return f"<Donation {self.kind} {self.amount} {self.currency} {key}>"


class InvoicePayment(Base):
    """Which payment intent paid an invoice, told in either order with `invoice.paid`.

    `invoice_payment.paid` tells it (in older API versions, the invoice itself). Kept apart
    from donations so a payment of an invoice that is not a membership's (a one-off invoice
    made in the Dashboard) records nothing else; its row is also the lock both events take
    first, so neither misses the other's write.
    """

    __tablename__ = "invoice_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<InvoicePayment {self.stripe_invoice_id} {self.stripe_payment_intent_id}>"


class PaymentAdjustment(Base):
    """Refunds and disputes of one payment intent, as far as facts in any order tell.

    `amount_refunded` is kept from two kinds of fact (membership.adjustments): the newest
    charge we saw (Stripe's running total at that moment) and each refund with its status.
    """

    __tablename__ = "payment_adjustments"
    __table_args__ = (
        CheckConstraint("amount_refunded >= 0", name="refund_not_negative"),
        CheckConstraint("amount_disputed >= 0", name="dispute_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_payment_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), index=True)
    amount_refunded: Mapped[int] = mapped_column(default=0)
    # The newest charge fact: its amount_refunded, and the Stripe time it was true at.
    charge_amount_refunded: Mapped[int | None]
    charge_fact_at: Mapped[datetime | None]
    disputed: Mapped[bool] = mapped_column(default=False)
    dispute_status: Mapped[str | None] = mapped_column(String(40))
    # The disputed amount while Stripe holds it back (DisputeStatus.withholds_funds), else 0.
    amount_disputed: Mapped[int] = mapped_column(default=0)
    dispute_fact_at: Mapped[datetime | None]  # Stripe time of the dispute fact applied
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return (
            f"<PaymentAdjustment {self.stripe_payment_intent_id} refunded={self.amount_refunded}>"
        )


class Refund(Base):
    """One refund with its own status; repeats and late facts are safe (keyed by its id)."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint(sql_in("status", REFUND_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_refund_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Known from the refund itself, or later from its charge (older refunds name no intent).
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), index=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24))
    created: Mapped[datetime]  # when Stripe created the refund
    fact_at: Mapped[datetime]  # Stripe time of the newest fact applied
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Refund {self.stripe_refund_id} {self.amount} {self.status}>"


class PendingDispute(Base):
    """A dispute that names only a charge we have not heard of yet (older API versions name
    no payment intent on a dispute): kept, newest fact only, until the charge tells its
    payment intent (membership.adjustments), then applied and deleted."""

    __tablename__ = "pending_disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_dispute_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the dispute object as Stripe sent it
    fact_at: Mapped[datetime]  # Stripe time of the fact kept
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<PendingDispute {self.stripe_dispute_id} on {self.stripe_charge_id}>"


class FailedPayment(Base):
    """A renewal (or first) invoice whose payment failed; Stripe retries it for a while."""

    __tablename__ = "failed_payments"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("attempt_count >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    attempt_count: Mapped[int] = mapped_column(default=0)
    failed_at: Mapped[datetime]  # Stripe's time of the newest failure we heard of
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<FailedPayment {self.stripe_invoice_id} attempts={self.attempt_count}>"
