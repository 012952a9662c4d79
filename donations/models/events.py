"""The webhook ledger: every verified Stripe event, once, with how processing went."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from donations.models.base import Base, sql_in, utcnow

# foreign: about an object this site did not make, on a shared account (STRIPE_ACCOUNT_SHARED=1);
# stored, changes nothing, applied once if staff adopt the object (payments.ownership).
EVENT_STATUSES = ("received", "processed", "ignored", "failed", "foreign")


class NoEffect(StrEnum):
    """Why a processed event changed nothing (design: name the moves you ignore)."""

    OLDER = "older"  # a newer fact about the same subscription was applied before it
    TERMINAL = "terminal"  # the membership had ended, and an ended one stays ended
    NOT_MEMBERSHIP = "not_membership"  # a subscription billed by another interval

    @property
    def meaning(self) -> str:
        """The reason in words, for staff."""
        return _MEANINGS[self]


_MEANINGS = {
    NoEffect.OLDER: "older than a fact already applied to the same subscription",
    NoEffect.TERMINAL: "the membership had already ended (ended memberships stay ended)",
    NoEffect.NOT_MEMBERSHIP: "a subscription of another interval than month or year: no membership",
}


class StripeEvent(Base):
    """One Stripe event as received; unique by Stripe's id so a duplicate has no effect."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        CheckConstraint(sql_in("status", EVENT_STATUSES), name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint(sql_in("no_effect", NoEffect), name="no_effect_known"),
        Index("ix_stripe_events_status_received_at", "status", "received_at"),
        Index("ix_stripe_events_type_received_at", "type", "received_at"),
        # The dashboard's check for events shaped in another API version reads only this.
        Index("ix_stripe_events_received_at_api_version", "received_at", "api_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    created: Mapped[datetime]  # when Stripe created the event
    livemode: Mapped[bool]
    # The API version Stripe shaped the payload in: the endpoint's, fixed at its creation.
    api_version: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(255), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    # A foreign event's owner (the subscription or payment it belongs to): when that object
    # becomes ours, the events held under it are applied (payments.ownership.keys_of).
    owner_key: Mapped[str | None] = mapped_column(String(255), index=True)
    payload: Mapped[str] = mapped_column(Text)  # the raw JSON body, as signed
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    # Processed, but it changed nothing: why (NoEffect). None when it changed something.
    no_effect: Mapped[str | None] = mapped_column(String(16))

    @property
    def no_effect_meaning(self) -> str:
        """Why the event changed nothing, in words ("" when it changed something)."""
        return NoEffect(self.no_effect).meaning if self.no_effect else ""

    def __repr__(self) -> str:
        return f"<StripeEvent {self.stripe_event_id} {self.type} {self.status}>"


class WebhookWorker(Base):
    """A running `flask webhooks work` process and when it last said it was alive."""

    __tablename__ = "webhook_workers"
    __table_args__ = (CheckConstraint("pid > 0", name="pid_positive"),)

    # host:pid:random, so a restarted process (or a reused pid) is a new worker.
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<WebhookWorker {self.id} beat {self.beat_at.isoformat()}>"
