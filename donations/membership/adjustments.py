"""What happens to a payment after it is made: its charge, refunds and disputes.

Facts about one payment intent meet in its PaymentAdjustment row, whatever the order they
arrive in; the donation reads its refunded amount and dispute from there.
"""

from __future__ import annotations

import logging
from datetime import datetime

from donations.extensions import db
from donations.membership.donations import record_gift
from donations.membership.locking import get_or_create_locked
from donations.membership.supporters import supporter_for
from donations.models import Donation, PaymentAdjustment
from donations.models.statuses import dispute_is_closed
from donations.payments.facts import ChargeFact, DisputeFact

log = logging.getLogger(__name__)


def _adjustment(payment_intent_id: str) -> PaymentAdjustment:
    return get_or_create_locked(
        PaymentAdjustment, PaymentAdjustment.stripe_payment_intent_id, payment_intent_id, {}
    )


def apply_charge(fact: ChargeFact, at: datetime) -> Donation | None:
    """Record a one-time gift's charge; record refunds of any payment (totals only grow)."""
    if not fact.payment_intent_id or fact.status == "failed":
        return None
    if fact.amount_refunded > 0:
        adjustment = _adjustment(fact.payment_intent_id)
        adjustment.stripe_charge_id = fact.id
        adjustment.amount_refunded = max(adjustment.amount_refunded, fact.amount_refunded)
    if not fact.metadata.is_gift:
        db.session.flush()
        return None  # a membership charge: its invoice records the payment
    supporter = supporter_for(user_id=fact.metadata.user_id, customer_id=fact.customer_id)
    donation = record_gift(
        fact.payment_intent_id,
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
    """Mark a payment disputed; a closed dispute's outcome is final."""
    if not fact.payment_intent_id:
        log.warning("dispute %s names no payment intent; cannot match it", fact.id)
        return None
    adjustment = _adjustment(fact.payment_intent_id)
    adjustment.disputed = True
    adjustment.stripe_charge_id = adjustment.stripe_charge_id or fact.charge_id
    closed_now = dispute_is_closed(adjustment.dispute_status)
    closed_fact = dispute_is_closed(fact.status)
    # A closed dispute's outcome sticks; otherwise the newer fact wins.
    if closed_fact != closed_now:
        newer = closed_fact
    else:
        newer = adjustment.dispute_fact_at is None or at >= adjustment.dispute_fact_at
    if newer:
        adjustment.dispute_status = fact.status
        adjustment.dispute_fact_at = at
    db.session.flush()
    return adjustment
