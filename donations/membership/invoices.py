"""Membership payments from invoices: paid, linked to their payment intent, or failed.

Only an invoice of a subscription is a membership payment. A one-off invoice made in the
Dashboard (no subscription) is not a renewal and not one of our gifts: it is logged and
left to Stripe's own records. In the current API an invoice does not name its payment
intent; `invoice_payment.paid` does, in either order with `invoice.paid`, and the
`invoice_payments` row both take first keeps them from missing each other.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from donations.extensions import db
from donations.facts.facts import InvoiceFact, InvoicePaymentFact
from donations.membership.donations import merge_payment
from donations.membership.locking import get_or_create_locked, locked
from donations.membership.notices import notice_failed_invoice
from donations.membership.supporters import supporter_for
from donations.models import Donation, FailedPayment, InvoicePayment, Membership, User

log = logging.getLogger(__name__)


def invoice_kind(fact: InvoiceFact) -> str:
    """A membership payment's kind: the subscription's first payment, or a renewal."""
    if fact.billing_reason == "subscription_create":
        return "membership_first"
    return "membership_renewal"


def _link(invoice_id: str, payment_intent_id: str | None, paid_at: datetime | None):
    """The invoice's payment link, locked; the first payment intent named stays."""
    link = get_or_create_locked(
        InvoicePayment,
        InvoicePayment.stripe_invoice_id,
        invoice_id,
        {"stripe_payment_intent_id": payment_intent_id, "paid_at": paid_at},
    )
    if payment_intent_id and link.stripe_payment_intent_id not in (None, payment_intent_id):
        log.warning(
            "invoice %s paid by %s and %s; keeping the first",
            invoice_id,
            link.stripe_payment_intent_id,
            payment_intent_id,
        )
    link.stripe_payment_intent_id = link.stripe_payment_intent_id or payment_intent_id
    if paid_at and (link.paid_at is None or paid_at < link.paid_at):
        link.paid_at = paid_at
    return link


def _payer(fact: InvoiceFact) -> int | None:
    """Whose payment this is: the membership's person once the membership is known."""
    if fact.subscription_id:
        owner = db.session.scalar(
            select(Membership.user_id).where(
                Membership.stripe_subscription_id == fact.subscription_id
            )
        )
        if owner is not None:
            return owner
    if fact.has_metadata:
        supporter = supporter_for(user_id=fact.metadata.user_id, customer_id=fact.customer_id)
        return supporter.id if supporter else None
    # An older layout carries no metadata: link only to someone already known by customer;
    # the subscription, when it comes, claims the payment (records.apply_subscription).
    if not fact.customer_id:
        return None
    return db.session.scalar(select(User.id).where(User.stripe_customer_id == fact.customer_id))


def apply_invoice_paid(fact: InvoiceFact, at: datetime) -> Donation | None:
    """Record a membership payment (first or renewal) from a paid invoice of a subscription."""
    if not fact.subscription_id:
        log.info("invoice %s belongs to no subscription; not a membership payment", fact.id)
        return None
    if fact.amount_paid <= 0:
        log.info("invoice %s paid nothing; no donation", fact.id)
        return None
    link = _link(fact.id, fact.payment_intent_id, fact.paid_at)
    user_id = _payer(fact)
    paid_at = fact.paid_at or at
    donation = get_or_create_locked(
        Donation,
        Donation.stripe_invoice_id,
        fact.id,
        {
            "kind": invoice_kind(fact),
            "amount": fact.amount_paid,
            "currency": fact.currency,
            "paid_at": paid_at,
        },
    )
    # The invoice is the authority on what a membership payment was.
    donation.kind = invoice_kind(fact)
    donation.amount = fact.amount_paid
    donation.currency = fact.currency
    donation.stripe_subscription_id = fact.subscription_id
    donation.stripe_payment_intent_id = (
        donation.stripe_payment_intent_id or link.stripe_payment_intent_id
    )
    donation.fee_amount = min(fact.metadata.fee_amount, fact.amount_paid)
    donation.source_article = fact.metadata.article
    merge_payment(
        donation,
        paid_at=link.paid_at or paid_at,
        email=fact.email,
        customer_id=fact.customer_id,
        user_id=user_id,
    )
    db.session.flush()
    return donation


def apply_invoice_payment(fact: InvoicePaymentFact, at: datetime) -> InvoicePayment | None:
    """Link an invoice to the payment intent that paid it (so refunds find the payment)."""
    if fact.status != "paid" or not fact.invoice_id or not fact.payment_intent_id:
        return None
    link = _link(fact.invoice_id, fact.payment_intent_id, fact.paid_at)
    donation = locked(Donation, Donation.stripe_invoice_id, fact.invoice_id)
    if donation is not None:
        donation.stripe_payment_intent_id = (
            donation.stripe_payment_intent_id or link.stripe_payment_intent_id
        )
        merge_payment(donation, paid_at=link.paid_at, email=None, customer_id=None, user_id=None)
    db.session.flush()
    return link


def apply_invoice_failed(fact: InvoiceFact, at: datetime) -> FailedPayment | None:
    """Note a failed membership payment, so staff can see who is about to lapse."""
    if not fact.subscription_id:
        log.info("invoice %s belongs to no subscription; its failure is not ours", fact.id)
        return None
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
    notice_failed_invoice(row)
    return row
