"""What happens to a payment after it is made: its charge, refunds and disputes.

Facts about one payment intent meet in its PaymentAdjustment row, whatever the order they
arrive in; the donation reads its refunded amount and dispute from there.

Refunds are told two ways. A charge says how much was refunded in all at one moment (and
the total goes down when a refund fails: the money goes back to the charge). A refund says
what became of itself: pending, succeeded, failed, canceled. The refunded amount is the
newest charge total, corrected by what refunds say happened after it (refunds_after).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update

from donations.extensions import db
from donations.facts.facts import ChargeFact, DisputeFact, RefundFact
from donations.membership import balance, pending_disputes
from donations.membership.donations import record_gift
from donations.membership.locking import get_or_create_locked, locked
from donations.membership.supporters import supporter_for
from donations.models import Donation, PaymentAdjustment, Refund
from donations.models.statuses import (
    RefundStatus,
    dispute_fact_wins,
    dispute_withholds_funds,
    known_dispute_status,
    refund_counts,
)

log = logging.getLogger(__name__)

# PaymentAdjustment.dispute_status's length; Stripe's statuses are far shorter.
DISPUTE_STATUS_LENGTH = 40


def _adjustment(payment_intent_id: str) -> PaymentAdjustment:
    return get_or_create_locked(
        PaymentAdjustment, PaymentAdjustment.stripe_payment_intent_id, payment_intent_id, {}
    )


def _in_charge_total(refund: Refund, charge_at: datetime) -> bool | None:
    """Whether the charge total at `charge_at` counted this refund (None: can't tell).

    A refund that began or ended in that very second leaves it open.
    """
    if refund.created > charge_at:
        return False
    if refund.created < charge_at:
        if refund_counts(refund.status) or refund.fact_at > charge_at:
            return True  # under way then (it may have failed since)
        if refund.fact_at < charge_at:
            return False  # failed or canceled before
    return None


def refunded_total(
    charge_total: int | None, charge_at: datetime | None, refunds: Iterable[Refund]
) -> int:
    """The amount refunded, from the newest charge total and each refund's newest status.

    A charge total counts every refund under way at its moment. From there, a refund it did
    not count adds its amount while it counts, and one it counted that failed or was canceled
    since gives it back. Without a charge total, the refunds add up.
    """
    refunds = sorted(refunds, key=lambda r: r.stripe_refund_id)  # the same answer every time
    if charge_at is None or charge_total is None:
        return sum(r.amount for r in refunds if refund_counts(r.status))
    counted = [r for r in refunds if _in_charge_total(r, charge_at)]
    # Same-second refunds were counted in the total if it has room for them.
    room = charge_total - sum(r.amount for r in counted)
    for refund in refunds:
        if _in_charge_total(refund, charge_at) is None and refund.amount <= room:
            counted.append(refund)
            room -= refund.amount
    total = charge_total
    for refund in refunds:
        if (refund in counted) != refund_counts(refund.status):
            total += refund.amount if refund_counts(refund.status) else -refund.amount
    return max(total, 0)


def _settle(adjustment: PaymentAdjustment) -> None:
    refunds = db.session.scalars(
        select(Refund).where(Refund.stripe_payment_intent_id == adjustment.stripe_payment_intent_id)
    )
    adjustment.amount_refunded = refunded_total(
        adjustment.charge_amount_refunded, adjustment.charge_fact_at, refunds
    )
    db.session.flush()


def _intent_of_charge(charge_id: str | None) -> str | None:
    """A payment intent we already know for a charge (older refunds name only the charge)."""
    if not charge_id:
        return None
    return db.session.scalar(
        select(PaymentAdjustment.stripe_payment_intent_id).where(
            PaymentAdjustment.stripe_charge_id == charge_id
        )
    ) or db.session.scalar(
        select(Refund.stripe_payment_intent_id)
        .where(Refund.stripe_charge_id == charge_id, Refund.stripe_payment_intent_id.is_not(None))
        .limit(1)
    )


def _store_refund(fact: RefundFact, intent: str | None, at: datetime) -> Refund:
    """Upsert one refund; the newest fact wins, and a failed or canceled refund stays so."""
    row = get_or_create_locked(
        Refund,
        Refund.stripe_refund_id,
        fact.id,
        {
            "stripe_payment_intent_id": intent,
            "stripe_charge_id": fact.charge_id,
            "amount": fact.amount,
            "currency": fact.currency,
            "status": fact.status,
            "created": fact.created or at,
            "fact_at": at,
        },
    )
    row.stripe_payment_intent_id = row.stripe_payment_intent_id or intent
    row.stripe_charge_id = row.stripe_charge_id or fact.charge_id
    if RefundStatus(row.status).is_final and fact.status != row.status:
        return row  # failed and canceled are final
    further = RefundStatus(fact.status).rank > RefundStatus(row.status).rank
    if at > row.fact_at or (at == row.fact_at and further):
        row.status, row.amount, row.fact_at = fact.status, fact.amount, at
    return row


def apply_refund(fact: RefundFact, at: datetime) -> PaymentAdjustment | None:
    """Record a refund in its current status and recount its payment's refunded amount."""
    intent = fact.payment_intent_id or _intent_of_charge(fact.charge_id)
    # The payment's row first: refunds of one payment are recounted one at a time.
    adjustment = _adjustment(intent) if intent else None
    _store_refund(fact, intent, at)
    if adjustment is None:
        log.info("refund %s: payment of charge %s not known yet", fact.id, fact.charge_id)
        db.session.flush()
        return None
    adjustment.stripe_charge_id = adjustment.stripe_charge_id or fact.charge_id
    _settle(adjustment)
    _apply_waiting_disputes(fact.charge_id, intent)  # a refund names the charge's payment too
    return adjustment


def _take_charge_total(adjustment: PaymentAdjustment, fact: ChargeFact, at: datetime) -> None:
    """Keep the newest charge total (it may be lower: a refund failed in between)."""
    current_at = adjustment.charge_fact_at
    if (
        current_at is None
        or at > current_at
        or (at == current_at and fact.amount_refunded > (adjustment.charge_amount_refunded or 0))
    ):
        adjustment.charge_amount_refunded = fact.amount_refunded
        adjustment.charge_fact_at = at


def apply_charge(fact: ChargeFact, at: datetime) -> Donation | None:
    """Record a one-time gift's charge, and the refunds of any payment it tells of."""
    if not fact.payment_intent_id or fact.status == "failed":
        return None
    intent = fact.payment_intent_id
    known = locked(PaymentAdjustment, PaymentAdjustment.stripe_payment_intent_id, intent)
    # Refunds may have arrived before the charge that tells which payment they belong to.
    orphans = db.session.scalar(
        select(Refund.id)
        .where(Refund.stripe_charge_id == fact.id, Refund.stripe_payment_intent_id.is_(None))
        .limit(1)
    )
    if known or orphans or fact.amount_refunded or fact.refunds:
        adjustment = _adjustment(intent)
        adjustment.stripe_charge_id = fact.id
        _take_charge_total(adjustment, fact, at)
        for refund in fact.refunds:  # listed on the charge by older API versions
            _store_refund(refund, intent, at)
        db.session.execute(
            update(Refund)
            .where(Refund.stripe_charge_id == fact.id, Refund.stripe_payment_intent_id.is_(None))
            .values(stripe_payment_intent_id=intent)
        )
        _settle(adjustment)
    # Disputes that came first, naming only this charge, now know their payment.
    _apply_waiting_disputes(fact.id, intent)
    if not fact.metadata.is_gift:
        db.session.flush()
        return None  # a membership charge: its invoice records the payment
    supporter = supporter_for(user_id=fact.metadata.user_id, customer_id=fact.customer_id)
    donation = record_gift(
        intent,
        amount=fact.amount,
        currency=fact.currency,
        paid_at=fact.created or at,
        metadata=fact.metadata,
        email=fact.email,
        customer_id=fact.customer_id,
        user_id=supporter.id if supporter else None,
    )
    db.session.flush()
    return donation


def apply_dispute(fact: DisputeFact, at: datetime) -> PaymentAdjustment | None:
    """Mark a payment disputed and hold back the disputed amount while Stripe does."""
    intent = (
        fact.payment_intent_id
        or _intent_of_charge(fact.charge_id)
        or pending_disputes.intent_heard_of(fact.charge_id)
    )
    if not intent:
        if not fact.charge_id:
            log.warning("dispute %s names neither a charge nor a payment; ignored", fact.id)
            return None
        # Kept, not dropped: the charge's own event will tell its payment (apply_charge).
        log.info("dispute %s: payment of charge %s not known yet", fact.id, fact.charge_id)
        pending_disputes.keep_waiting(fact, at)
        balance.record_all(fact.balance_transactions, None)  # linked once the payment is known
        return None
    if known_dispute_status(fact.status) is None:
        # Stripe's enums are open: a newer status must not fail the event for days.
        log.warning(
            "dispute %s has status %r, unknown to this version; held as an open dispute",
            fact.id,
            fact.status,
        )
    adjustment = _adjustment(intent)
    adjustment.disputed = True
    adjustment.stripe_charge_id = adjustment.stripe_charge_id or fact.charge_id
    status = fact.status[:DISPUTE_STATUS_LENGTH]
    if dispute_fact_wins(adjustment.dispute_status, adjustment.dispute_fact_at, status, at):
        adjustment.dispute_status = status
        adjustment.dispute_fact_at = at
        # Lost keeps it; won, prevented and inquiries give it back (or never took it).
        adjustment.amount_disputed = fact.amount if dispute_withholds_funds(status) else 0
    # The withdrawal (with the dispute fee) and any reinstatement, whatever the fact's age.
    balance.record_all(fact.balance_transactions, intent)
    db.session.flush()
    _apply_waiting_disputes(fact.charge_id, intent)
    return adjustment


def _apply_waiting_disputes(charge_id: str | None, intent: str) -> None:
    """Disputes of this charge that came before we knew its payment: apply them now."""
    for waiting, at in pending_disputes.take_waiting(charge_id):
        apply_dispute(replace(waiting, payment_intent_id=intent), at)
