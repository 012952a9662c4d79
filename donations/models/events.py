"""The webhook ledger: every verified Stripe event, once, with how processing went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from donations.models.base import Base, sql_in, utcnow

EVENT_STATUSES = ("received", "processed", "ignored", "failed")


class StripeEvent(Base):
    """One Stripe event as received; unique by Stripe's id so a duplicate has no effect."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        CheckConstraint(sql_in("status", EVENT_STATUSES), name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
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
    payload: Mapped[str] = mapped_column(Text)  # the raw JSON body, as signed
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]

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
