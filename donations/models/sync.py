"""Reconciliation runs: when `stripe sync` last ran and what it found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from donations.models.base import Base, utcnow


class SyncRun(Base):
    """One run of `stripe sync`: its window, what it examined and changed, and any error."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint("examined >= 0 AND changed >= 0", name="counts_not_negative"),
        Index("ix_sync_runs_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    dry_run: Mapped[bool] = mapped_column(default=False)
    examined: Mapped[int] = mapped_column(default=0)  # Stripe objects read
    changed: Mapped[int] = mapped_column(default=0)  # records created or repaired
    # JSON: {"counts": {"memberships_created": 1, ...}, "changes": ["...", ...]}
    summary: Mapped[str] = mapped_column(Text, default="{}")
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<SyncRun {self.id} changed={self.changed} dry_run={self.dry_run}>"
