"""Stripe's balance transactions of our payments: each one recorded once, by its Stripe id.

A balance transaction never changes its amounts once made (only its availability), so the
first copy we hear of is kept; a later copy may only add a link we did not know (the
payment of a dispute that waited for its charge). Where they come from: a dispute lists its
own in every event about it; a charge's and a refund's are named by id only, so `stripe
sync` reads them from the API (payments.sync_steps.sync_balance_transaction).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from donations.extensions import db
from donations.facts.facts import BalanceTransactionFact
from donations.membership.locking import insert_if_absent
from donations.models import BalanceTransaction, Donation, PaymentAdjustment

log = logging.getLogger(__name__)

LINKS = ("stripe_payment_intent_id", "stripe_charge_id", "stripe_refund_id", "stripe_dispute_id")


def _values(fact: BalanceTransactionFact) -> dict[str, object]:
    return {
        "stripe_balance_transaction_id": fact.id,
        "source_id": fact.source_id,
        "type": fact.type[:64],
        "reporting_category": fact.reporting_category[:64],
        "amount": fact.amount,
        "fee": fact.fee,
        "net": fact.amount - fact.fee,  # Stripe's definition of net (API reference, `net`)
        "currency": fact.currency,
        "exchange_rate": fact.exchange_rate,
        "created": fact.created,
        "stripe_payment_intent_id": fact.payment_intent_id,
        "stripe_charge_id": fact.charge_id,
        "stripe_refund_id": fact.refund_id,
        "stripe_dispute_id": fact.dispute_id,
    }


def record_balance_transaction(fact: BalanceTransactionFact, at: datetime | None = None) -> bool:
    """Keep one balance transaction of a payment; True when it was new (or newly linked)."""
    if not fact.of_a_payment:
        return False  # payouts, Stripe's own invoices: not a payment's money
    if fact.net != fact.amount - fact.fee:
        log.warning("balance transaction %s: net is not amount less fee; ignored", fact.id)
        return False
    if fact.created is None and at is not None:
        fact = replace(fact, created=at)
    values = _values(fact)
    if insert_if_absent(BalanceTransaction, "stripe_balance_transaction_id", values):
        return True
    row = db.session.scalar(
        select(BalanceTransaction)
        .where(BalanceTransaction.stripe_balance_transaction_id == fact.id)
        .with_for_update()
    )
    assert row is not None
    linked = False
    for name in LINKS:
        if getattr(row, name) is None and values[name] is not None:
            setattr(row, name, values[name])
            linked = True
    db.session.flush()
    return linked


def record_all(facts: tuple[BalanceTransactionFact, ...], payment_intent_id: str | None) -> int:
    """Record the balance transactions an object lists, linked to its payment; how many new."""
    return sum(
        record_balance_transaction(
            replace(f, payment_intent_id=f.payment_intent_id or payment_intent_id)
        )
        for f in facts
    )


def is_our_payment(payment_intent_id: str | None) -> bool:
    """Whether a payment intent is one of our payments (a donation, or its refunds/disputes)."""
    if not payment_intent_id:
        return False
    return (
        db.session.scalar(
            select(Donation.id).where(Donation.stripe_payment_intent_id == payment_intent_id)
        )
        is not None
        or db.session.scalar(
            select(PaymentAdjustment.id).where(
                PaymentAdjustment.stripe_payment_intent_id == payment_intent_id
            )
        )
        is not None
    )


def is_recorded(stripe_id: str) -> bool:
    """Whether we hold this balance transaction, with the payment it belongs to."""
    return (
        db.session.scalar(
            select(BalanceTransaction.id).where(
                BalanceTransaction.stripe_balance_transaction_id == stripe_id,
                BalanceTransaction.stripe_payment_intent_id.is_not(None),
            )
        )
        is not None
    )
