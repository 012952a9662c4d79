"""Applying Stripe facts to our records: memberships, donations, checkout attempts.

Every function here gives the same records whatever order the facts arrive in, and has
one effect however often a fact repeats: upserts on Stripe ids, merges that commute
(max of refund totals, min of payment times), and the one transition function for status.
"""

from __future__ import annotations

import logging
from datetime import datetime

from donations.extensions import db
from donations.membership.locking import get_or_create_locked, locked
from donations.membership.supporters import supporter_for
from donations.membership.transitions import MembershipState, apply_state, lock_person
from donations.models import (
    INTERVALS,
    CheckoutAttempt,
    Donation,
    FailedPayment,
    Membership,
    PaymentAdjustment,
    SubscriptionStatus,
)
from donations.models.statuses import dispute_is_closed
from donations.payments.facts import (
    ChargeFact,
    CheckoutFact,
    DisputeFact,
    InvoiceFact,
    InvoicePaymentFact,
    SubscriptionFact,
)
from donations.payments.metadata import ONCE, CheckoutMetadata, parse_user_id

log = logging.getLogger(__name__)


def apply_subscription(fact: SubscriptionFact, at: datetime) -> Membership | None:
    """Create or update the membership a subscription fact describes."""
    if fact.interval not in INTERVALS:
        log.info("subscription %s has interval %s; not a membership", fact.id, fact.interval)
        return None
    supporter = supporter_for(user_id=fact.metadata.user_id, customer_id=fact.customer_id)
    if supporter is None:
        raise ValueError(f"subscription {fact.id} names no customer")
    lock_person(supporter.id)
    membership = get_or_create_locked(
        Membership,
        Membership.stripe_subscription_id,
        fact.id,
        # A placeholder that is not a member; apply_state moves it and the count together.
        {
            "user_id": supporter.id,
            "status": SubscriptionStatus.INCOMPLETE,
            "interval": fact.interval,
            "amount": fact.amount,
            "currency": fact.currency,
        },
    )
    state = MembershipState(
        status=SubscriptionStatus(fact.status),
        interval=fact.interval,
        amount=fact.amount,
        currency=fact.currency,
        cancel_at_period_end=fact.cancel_at_period_end,
        current_period_end=fact.current_period_end,
        started_at=fact.started_at,
        ended_at=fact.ended_at,
        source_article=fact.metadata.article,
    )
    apply_state(membership, state, at)
    return membership


def _record_gift(
    payment_intent_id: str,
    *,
    amount: int,
    currency: str,
    paid_at: datetime,
    metadata: CheckoutMetadata,
    email: str | None,
    customer_id: str | None,
    user_id: int | None,
) -> Donation:
    """The one-time gift of a payment intent, told by its checkout or its charge alike."""
    donation = get_or_create_locked(
        Donation,
        Donation.stripe_payment_intent_id,
        payment_intent_id,
        {"kind": "gift", "amount": amount, "currency": currency, "paid_at": paid_at},
    )
    donation.fee_amount = min(metadata.fee_amount, donation.amount)
    donation.source_article = metadata.article
    _merge_payment(donation, paid_at=paid_at, email=email, customer_id=customer_id, user_id=user_id)
    return donation


def invoice_kind(fact: InvoiceFact) -> str:
    """A membership payment's kind: the subscription's first payment, or a renewal."""
    if fact.billing_reason == "subscription_create":
        return "membership_first"
    return "membership_renewal"


def _invoice_donation(invoice_id: str, values: dict) -> Donation:
    # Until invoice.paid says otherwise, a membership payment is taken as a renewal.
    return get_or_create_locked(
        Donation, Donation.stripe_invoice_id, invoice_id, {"kind": "membership_renewal", **values}
    )


def _merge_payment(
    donation: Donation,
    *,
    paid_at: datetime | None,
    email: str | None,
    customer_id: str | None,
    user_id: int | None,
) -> None:
    # min() and "first non-empty" commute, so the order of events doesn't matter.
    if paid_at and paid_at < donation.paid_at:
        donation.paid_at = paid_at
    donation.email = donation.email or email
    donation.stripe_customer_id = donation.stripe_customer_id or customer_id
    donation.user_id = donation.user_id or user_id


def apply_invoice_paid(fact: InvoiceFact, at: datetime) -> Donation | None:
    """Record a membership payment (first or renewal) from a paid invoice."""
    if fact.amount_paid <= 0:
        log.info("invoice %s paid nothing; no donation", fact.id)
        return None
    supporter = supporter_for(user_id=fact.metadata.user_id, customer_id=fact.customer_id)
    paid_at = fact.paid_at or at
    donation = _invoice_donation(
        fact.id, {"amount": fact.amount_paid, "currency": fact.currency, "paid_at": paid_at}
    )
    # The invoice is the authority on what a membership payment was.
    donation.kind = invoice_kind(fact)
    donation.amount = fact.amount_paid
    donation.currency = fact.currency
    donation.stripe_subscription_id = fact.subscription_id
    donation.stripe_payment_intent_id = donation.stripe_payment_intent_id or fact.payment_intent_id
    donation.fee_amount = min(fact.metadata.fee_amount, fact.amount_paid)
    donation.source_article = fact.metadata.article
    _merge_payment(
        donation,
        paid_at=paid_at,
        email=fact.email,
        customer_id=fact.customer_id,
        user_id=supporter.id if supporter else None,
    )
    db.session.flush()
    return donation


def apply_invoice_payment(fact: InvoicePaymentFact, at: datetime) -> Donation | None:
    """Link a membership payment to its payment intent (so refunds find it)."""
    if fact.status != "paid" or not fact.invoice_id or fact.amount_paid <= 0:
        return None
    donation = _invoice_donation(
        fact.invoice_id,
        {"amount": fact.amount_paid, "currency": fact.currency, "paid_at": fact.paid_at or at},
    )
    donation.stripe_payment_intent_id = donation.stripe_payment_intent_id or fact.payment_intent_id
    _merge_payment(donation, paid_at=fact.paid_at, email=None, customer_id=None, user_id=None)
    db.session.flush()
    return donation


def apply_invoice_failed(fact: InvoiceFact, at: datetime) -> FailedPayment:
    """Note a failed membership payment, so staff can see who is about to lapse."""
    row = get_or_create_locked(
        FailedPayment,
        FailedPayment.stripe_invoice_id,
        fact.id,
        {
            "amount": fact.amount_due,
            "currency": fact.currency,
            "failed_at": at,
            "stripe_subscription_id": fact.subscription_id,
            "stripe_customer_id": fact.customer_id,
        },
    )
    row.failed_at = max(row.failed_at, at)
    row.attempt_count = max(row.attempt_count, fact.attempt_count)
    db.session.flush()
    return row


def apply_checkout(fact: CheckoutFact, at: datetime) -> CheckoutAttempt | None:
    """Mark our Checkout attempt done and record a one-time gift when it is paid."""
    supporter = supporter_for(
        # A client_reference_id, when there is one, is the authority (even if unreadable).
        user_id=(
            parse_user_id(fact.client_reference_id)
            if fact.client_reference_id
            else fact.metadata.user_id
        ),
        customer_id=fact.customer_id,
        email=fact.email,
    )
    interval = fact.metadata.interval or (ONCE if fact.mode == "payment" else "month")
    paid = fact.is_paid
    attempt = get_or_create_locked(
        CheckoutAttempt,
        CheckoutAttempt.stripe_session_id,
        fact.id,
        {
            "interval": interval,
            "amount": max(fact.amount_total, 1),
            "currency": fact.currency,
            "fee_amount": min(fact.metadata.fee_amount, max(fact.amount_total - 1, 0)),
            "source_article": fact.metadata.article,
            "user_id": supporter.id if supporter else None,
        },
    )
    if paid and attempt.status != "complete":
        attempt.status = "complete"
        attempt.completed_at = at
    elif not paid and fact.status == "expired" and attempt.status == "open":
        attempt.status = "expired"
    if fact.mode == "payment" and paid and fact.payment_intent_id:
        donation = _record_gift(
            fact.payment_intent_id,
            amount=fact.amount_total,
            currency=fact.currency,
            paid_at=fact.created or at,
            metadata=fact.metadata,
            email=fact.email,
            customer_id=fact.customer_id,
            user_id=supporter.id if supporter else None,
        )
        donation.stripe_checkout_session_id = fact.id
    db.session.flush()
    return attempt


def apply_checkout_failed(fact: CheckoutFact, at: datetime) -> None:
    """A delayed payment method (e.g. a bank debit) failed after Checkout completed."""
    attempt = locked(CheckoutAttempt, CheckoutAttempt.stripe_session_id, fact.id)
    if attempt is not None and attempt.status != "complete":
        attempt.status = "failed"
        db.session.flush()


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
    donation = _record_gift(
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
