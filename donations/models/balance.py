"""Balance transactions: what Stripe actually moved on the account for our payments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from donations.models.base import Base, utcnow


class BalanceTransaction(Base):
    """One of Stripe's balance transactions: a payment, refund or dispute, net of its fee.

    Amounts are in the currency the account settles in (`currency`), which may differ from
    the payment's; `exchange_rate` is Stripe's, kept as the exact decimal text it sent. Linked
    to the payment, refund and dispute by their Stripe ids, not foreign keys: a transaction
    may be told before the payment it belongs to is recorded (as Donation and
    PaymentAdjustment are linked by payment intent).
    """

    __tablename__ = "balance_transactions"
    __table_args__ = (
        CheckConstraint("net = amount - fee", name="net_is_amount_less_fee"),
        CheckConstraint("length(currency) = 3 AND currency = lower(currency)", name="currency_iso"),
        # The dashboard sums a window of them per currency.
        Index("ix_balance_transactions_created", "created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_balance_transaction_id: Mapped[str] = mapped_column(String(255), unique=True)
    source_id: Mapped[str | None] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(64))
    reporting_category: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int]  # minor units of `currency`, signed: money in is positive
    fee: Mapped[int]  # Stripe's fees (processing, or the dispute fee), minor units
    net: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    exchange_rate: Mapped[str | None] = mapped_column(String(32))
    created: Mapped[datetime]  # Stripe's time
    # The payment (its payment intent: Donation.stripe_payment_intent_id), and the refund
    # (Refund.stripe_refund_id) or dispute (PaymentAdjustment's) the transaction came from.
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255))
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255))
    stripe_dispute_id: Mapped[str | None] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return (
            f"<BalanceTransaction {self.stripe_balance_transaction_id} {self.type} "
            f"{self.amount} - {self.fee} {self.currency}>"
        )
