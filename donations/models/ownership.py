"""Objects on a shared Stripe account that this site did not make, and the ones staff adopted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from donations.models.base import Base, sql_in, utcnow

# What staff can adopt: a subscription (a membership from then on) or a Checkout payment (a gift).
FOREIGN_KINDS = ("subscription", "payment")


class ForeignObject(Base):
    """A subscription or payment seen on the account, made by someone else; not counted."""

    __tablename__ = "foreign_objects"
    __table_args__ = (
        CheckConstraint(sql_in("kind", FOREIGN_KINDS), name="kind_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("length(currency) = 3 AND currency = lower(currency)", name="currency_iso"),
        Index("ix_foreign_objects_created", "created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The subscription id, or a payment's payment intent id: what its events are held under.
    stripe_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int]  # minor units: a subscription's per interval, a payment's total
    currency: Mapped[str] = mapped_column(String(3))
    created: Mapped[datetime]  # when Stripe made it (or first told us of it)
    description: Mapped[str] = mapped_column(String(255), default="")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ForeignObject {self.kind} {self.stripe_id}>"


class Adoption(Base):
    """Staff made a foreign object ours: who, when, which; it counts from then on."""

    __tablename__ = "adoptions"
    __table_args__ = (
        CheckConstraint(sql_in("kind", FOREIGN_KINDS), name="kind_known"),
        CheckConstraint("events_applied >= 0", name="events_applied_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_object_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    adopted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Kept as it was: the record says who, even after their account is gone.
    adopted_by_email: Mapped[str] = mapped_column(String(320), default="")
    adopted_at: Mapped[datetime] = mapped_column(default=utcnow)
    events_applied: Mapped[int] = mapped_column(default=0)  # held events applied on adoption

    def __repr__(self) -> str:
        return f"<Adoption {self.kind} {self.stripe_object_id}>"
