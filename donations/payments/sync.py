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

from sqlalchemy import select, update

from donations.extensions import db
from donations.membership import records
from donations.membership.supporters import supporter_for
from donations.models import (
    INTERVALS,
    CheckoutAttempt,
    Donation,
    Membership,
    PaymentAdjustment,
    SyncRun,
    User,
    utcnow,
)
from donations.payments.facts import ChargeFact, CheckoutFact, InvoiceFact, SubscriptionFact
from donations.payments.gateway import Gateway
from donations.payments.metadata import CustomerMetadata

log = logging.getLogger(__name__)

BATCH_SIZE = 100
DEFAULT_DAYS = 90
MAX_STORED_CHANGES = 200

Progress = Callable[[str, int], None]
# One reconciliation step returns (counter key, human description) for each change it made.
Change = tuple[str, str]


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
        return sum(n for key, n in self.counts.items() if key != "failed")

    def add(self, change: Change) -> None:
        """Count one change and keep its description."""
        self.counts[change[0]] += 1
        self.changes.append(change[1])


# --- the steps: each compares, then applies the webhook function only when something differs


def sync_customer(obj: dict[str, Any], now: datetime) -> list[Change]:
    """Make sure a Stripe customer is a supporter (linked to the account it names, if any)."""
    customer_id = obj.get("id")
    if not customer_id or obj.get("deleted"):
        return []
    if db.session.scalar(select(User.id).where(User.stripe_customer_id == customer_id)):
        return []
    user_id = CustomerMetadata.from_stripe(obj.get("metadata")).user_id
    user = supporter_for(user_id=user_id, customer_id=customer_id, email=obj.get("email"))
    if user is None or user.stripe_customer_id != customer_id:
        return []
    if user.has_login:
        return [("supporters_linked", f"customer {customer_id} linked to account {user.id}")]
    return [("supporters_created", f"supporter {user.id} created for customer {customer_id}")]


def _membership_state(m: Membership | None) -> tuple[Any, ...] | None:
    if m is None:
        return None
    return (
        m.status,
        m.interval,
        m.amount,
        m.currency,
        m.cancel_at_period_end,
        m.current_period_end,
        m.ended_at,
    )


def _fact_state(fact: SubscriptionFact) -> tuple[Any, ...]:
    return (
        fact.status,
        fact.interval,
        fact.amount,
        fact.currency,
        fact.cancel_at_period_end,
        fact.current_period_end,
        fact.ended_at,
    )


def sync_subscription(fact: SubscriptionFact, now: datetime) -> list[Change]:
    """Create or repair a membership from the subscription's current state."""
    current = db.session.scalar(
        select(Membership).where(Membership.stripe_subscription_id == fact.id)
    )
    before = _membership_state(current)
    if before == _fact_state(fact) or fact.interval not in INTERVALS:
        return []
    # The API gives the state as of now, newer than any event we may have missed.
    membership = records.apply_subscription(fact, now)
    after = _membership_state(membership)
    if membership is None or after == before:
        return []
    if before is None:
        return [("memberships_created", f"membership {fact.id} created ({fact.status})")]
    return [("memberships_updated", f"membership {fact.id}: {before[0]} -> {after[0]}")]


def sync_invoice(fact: InvoiceFact, now: datetime) -> list[Change]:
    """Record a paid membership invoice we have no (or a wrong) donation for."""
    if fact.amount_paid <= 0 or not fact.subscription_id:
        return []
    kind = records.invoice_kind(fact)
    donation = db.session.scalar(select(Donation).where(Donation.stripe_invoice_id == fact.id))
    if donation is not None and (
        donation.amount,
        donation.currency,
        donation.kind,
        bool(donation.stripe_payment_intent_id or not fact.payment_intent_id),
    ) == (fact.amount_paid, fact.currency, kind, True):
        return []
    records.apply_invoice_paid(fact, fact.paid_at or now)
    verb = "created" if donation is None else "repaired"
    return [
        (
            f"donations_{verb}",
            f"{kind} payment {fact.id} {verb} ({fact.amount_paid} {fact.currency})",
        )
    ]


def sync_checkout(fact: CheckoutFact, now: datetime) -> list[Change]:
    """Complete our Checkout attempt and record a gift a lost webhook should have recorded."""
    if not fact.is_paid:
        return []
    attempt = db.session.scalar(
        select(CheckoutAttempt).where(CheckoutAttempt.stripe_session_id == fact.id)
    )
    gift_missing = (
        fact.mode == "payment"
        and fact.payment_intent_id is not None
        and db.session.scalar(
            select(Donation.id).where(Donation.stripe_payment_intent_id == fact.payment_intent_id)
        )
        is None
    )
    attempt_open = attempt is None or attempt.status != "complete"
    if not (gift_missing or attempt_open):
        return []
    records.apply_checkout(fact, fact.created or now)
    changes: list[Change] = []
    if attempt_open:
        changes.append(("checkouts_completed", f"checkout {fact.id} marked complete"))
    if gift_missing:
        changes.append(
            (
                "donations_created",
                f"gift {fact.payment_intent_id} created ({fact.amount_total} {fact.currency})",
            )
        )
    return changes


def sync_charge(fact: ChargeFact, now: datetime) -> list[Change]:
    """Record a gift's charge we missed, and refunds we have not heard of."""
    if not fact.payment_intent_id or fact.status == "failed":
        return []
    refunded = (
        db.session.scalar(
            select(PaymentAdjustment.amount_refunded).where(
                PaymentAdjustment.stripe_payment_intent_id == fact.payment_intent_id
            )
        )
        or 0
    )
    refund_missing = fact.amount_refunded > refunded
    gift_missing = (
        fact.metadata.is_gift
        and db.session.scalar(
            select(Donation.id).where(Donation.stripe_payment_intent_id == fact.payment_intent_id)
        )
        is None
    )
    if not (refund_missing or gift_missing):
        return []
    records.apply_charge(fact, fact.created or now)
    changes: list[Change] = []
    if gift_missing:
        changes.append(
            (
                "donations_created",
                f"gift {fact.payment_intent_id} created ({fact.amount} {fact.currency})",
            )
        )
    if refund_missing:
        changes.append(
            (
                "refunds_updated",
                f"refund of {fact.payment_intent_id}: {refunded} -> {fact.amount_refunded}"
                f" {fact.currency}",
            )
        )
    return changes


def _steps(
    since: datetime,
) -> list[tuple[str, dict[str, Any], Callable[[Any, datetime], list[Change]]]]:
    recent = {"created": {"gte": int(since.timestamp())}}
    return [
        ("customers", {}, sync_customer),
        ("subscriptions", {"status": "all"}, sync_subscription),
        ("invoices", {"status": "paid", **recent}, sync_invoice),
        ("checkout_sessions", {"status": "complete", **recent}, sync_checkout),
        ("charges", recent, sync_charge),
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
    step: Callable[[Any, datetime], list[Change]], obj: Any, now: datetime, report: SyncReport
) -> None:
    """Run one step in a savepoint: an object we cannot apply is reported, the rest go on."""
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
    now = utcnow()
    try:
        for kind, params, step in _steps(now - timedelta(days=days)):
            seen = 0
            for batch in _batches(gateway.iter_objects(kind, **params), batch_size):
                _open_batch(run_id, report.examined)
                for obj in batch:
                    _apply_one(step, obj, now, report)
                    seen += 1
                    if progress is not None:
                        progress(kind, seen)
                report.examined += len(batch)
                if dry_run:
                    db.session.rollback()
                else:
                    db.session.commit()
    except Exception as exc:  # the run row must say why it stopped
        db.session.rollback()
        log.exception("stripe sync stopped")
        report.error = f"{type(exc).__name__}: {exc}"
    _finish(run_id, report)
    return report


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
