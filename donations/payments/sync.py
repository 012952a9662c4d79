"""Reconciliation with Stripe: read customers, subscriptions and recent payments page by
page, and repair our records through the same functions the webhooks use.

A batch job rather than a request: it commits in small batches so the row locks it takes
(inside the records functions) are held only briefly while webhooks keep arriving. A dry
run does the same work and rolls every batch back. No click or request code here.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from donations.extensions import db
from donations.facts.metadata import site_of
from donations.membership.grace import recheck_grace
from donations.models import SyncRun, utcnow
from donations.payments import ownership
from donations.payments.gateway import Gateway
from donations.payments.ownership import Owner
from donations.payments.sync_fees import sync_balance_transaction
from donations.payments.sync_steps import (
    Change,
    sync_charge,
    sync_checkout,
    sync_customer,
    sync_dispute,
    sync_invoice,
    sync_refund,
    sync_subscription,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 100
DEFAULT_DAYS = 90
MAX_STORED_CHANGES = 200

Progress = Callable[[str, int], None]

# Counted in a report, but not changes: objects we could not apply, other sites' objects, and
# (STRIPE_ACCOUNT_SHARED=1) objects nobody here made or adopted.
OTHER_INSTALLATION = "other_installation"
FOREIGN = "foreign"
NOT_CHANGES = ("failed", OTHER_INSTALLATION, FOREIGN)


@dataclass
class SyncReport:
    """What a run read and what it changed (or would change, in a dry run)."""

    dry_run: bool
    examined: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def changed(self) -> int:
        """Records created or repaired (failures not included)."""
        return sum(n for key, n in self.counts.items() if key not in NOT_CHANGES)

    def add(self, change: Change) -> None:
        """Count one change and keep its description."""
        self.counts[change[0]] += 1
        self.changes.append(change[1])


def _steps(
    since: datetime,
) -> list[tuple[str, dict[str, Any], Callable[[Any, datetime], list[Change]]]]:
    recent = {"created": {"gte": int(since.timestamp())}}
    return [
        ("customers", {}, sync_customer),
        # Discounts with their coupons: what a membership brings in is net of them.
        (
            "subscriptions",
            {"status": "all", "expand": ["data.discounts.source.coupon"]},
            sync_subscription,
        ),
        ("invoices", {"status": "paid", **recent, "expand": ["data.payments"]}, sync_invoice),
        (
            "checkout_sessions",
            # The payment intent's `created` is when a gift was paid (the session is older).
            {"status": "complete", **recent, "expand": ["data.payment_intent"]},
            sync_checkout,
        ),
        ("charges", recent, sync_charge),
        ("refunds", recent, sync_refund),
        # The charge expanded: it names the payment when the dispute does not (older charges).
        ("disputes", {**recent, "expand": ["data.charge"]}, sync_dispute),
        # Fees and net: the source expanded names the payment (a charge, refund or dispute).
        ("balance_transactions", {**recent, "expand": ["data.source"]}, sync_balance_transaction),
    ]


def _batches(objects: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for obj in objects:
        batch.append(obj)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply_one(
    step: Callable[[Any, datetime], list[Change]],
    obj: Any,
    now: datetime,
    report: SyncReport,
    installation: str,
) -> None:
    """Run one step in a savepoint: an object we cannot apply is reported, the rest go on.

    An object another installation tagged (one Stripe account shared by environments) is
    left alone: its user ids are not ours, and its customers are not our supporters. On a
    shared account, so is an object nobody here made or adopted (payments.ownership); staff
    see it with the foreign ones.
    """
    owner = ownership.decide(obj, installation)
    if owner is Owner.OTHER_INSTALLATION:
        log.info("sync skips %s: made by installation %s", getattr(obj, "id", "?"), site_of(obj))
        report.counts[OTHER_INSTALLATION] += 1
        return
    if owner is Owner.FOREIGN:
        ownership.note_foreign(obj, now)
        report.counts[FOREIGN] += 1
        return
    try:
        with db.session.begin_nested():
            for change in step(obj, now):
                report.add(change)
    except Exception as exc:  # one bad object must not stop the reconciliation
        log.exception("sync could not apply %r", getattr(obj, "id", obj))
        report.add(("failed", f"{getattr(obj, 'id', '?')}: {type(exc).__name__}: {exc}"))


def run_sync(
    gateway: Gateway,
    *,
    dry_run: bool = False,
    days: int = DEFAULT_DAYS,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> SyncReport:
    """Reconcile our records with Stripe; record the run as a SyncRun and return the report."""
    run = SyncRun(started_at=utcnow(), dry_run=dry_run)
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    report = SyncReport(dry_run=dry_run)
    installation = gateway.key_namespace
    now = utcnow()
    try:
        # What the API says is as of Stripe's now: never older than the events it replaces.
        now = max(now, gateway.stripe_time() or now)
        for kind, params, step in _steps(now - timedelta(days=days)):
            seen = 0
            for batch in _batches(gateway.iter_objects(kind, **params), batch_size):
                _open_batch(run_id, report.examined)
                for obj in batch:
                    _apply_one(step, obj, now, report, installation)
                    seen += 1
                    if progress is not None:
                        progress(kind, seen)
                report.examined += len(batch)
                _end_batch(dry_run)
        # Graces also run out with no event; the counter must follow (membership.grace).
        _open_batch(run_id, report.examined)
        for _ in range(recheck_grace(utcnow())):
            report.counts["grace_updated"] += 1
        _end_batch(dry_run)
    except Exception as exc:  # the run row must say why it stopped
        db.session.rollback()
        log.exception("stripe sync stopped")
        report.error = f"{type(exc).__name__}: {exc}"
    _finish(run_id, report)
    return report


def _end_batch(dry_run: bool) -> None:
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()


def _open_batch(run_id: int, examined: int) -> None:
    """Start the batch's transaction with a write: progress staff can see while it runs.

    It also matters on SQLite, whose driver only opens a transaction before a write: a
    savepoint opened first would commit on release, and a dry run would write.
    """
    db.session.execute(update(SyncRun).where(SyncRun.id == run_id).values(examined=examined))


def _finish(run_id: int, report: SyncReport) -> None:
    run = db.session.get(SyncRun, run_id)
    assert run is not None
    run.finished_at = utcnow()
    run.examined = report.examined
    run.changed = report.changed
    run.error = report.error
    run.summary = json.dumps(
        {"counts": dict(report.counts), "changes": report.changes[:MAX_STORED_CHANGES]}
    )
    db.session.commit()
