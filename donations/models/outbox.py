"""The mail outbox: every mail is a row, written in the transaction of the change it is about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from donations.models.base import Base, utcnow


class OutboxMail(Base):
    """One mail to send: rendered (subject and bodies) or a template with its JSON context.

    `dedup_key` names the cause (the Checkout attempt, the sign-up, the reset request): the
    same cause never yields a second row. A sender claims a row by moving `next_attempt_at`
    forward with a conditional UPDATE (core.outbox), so two senders never both send it.
    `next_attempt_at` is NULL once the row is sent or given up.
    """

    __tablename__ = "outbox_mails"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The sender's question: what is due, oldest first (unsent rows only).
        Index("ix_outbox_mails_sent_at_next_attempt_at", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    # A registered template renders the bodies when the mail is sent (core.outbox).
    template: Mapped[str] = mapped_column(String(100), default="")
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        state = "sent" if self.sent_at else f"attempts={self.attempts}"
        return f"<OutboxMail {self.dedup_key} {state}>"
