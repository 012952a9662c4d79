"""The steps of `stripe sync`: each compares one Stripe object with our records and applies
the webhook function only when something differs, returning what it changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from donations.extensions import db
from donations.facts.facts import (
    ChargeFact,
    CheckoutFact,
    DisputeFact,
    InvoiceFact,
    RefundFact,
    SubscriptionFact,
)
from donations.facts.metadata import CustomerMetadata
from donations.facts.subscription_state import stored
from donations.membership import adjustments, balance, invoices, records
from donations.membership.supporters import supporter_for
from donations.models import (
    MEMBERSHIP_INTERVALS,
    CheckoutAttempt,
    Donation,
    Membership,
    PaymentAdjustment,
    PendingDispute,
    Refund,
    User,
)
from donations.models.statuses import dispute_withholds_funds
from donations.payments.sync_fees import FEES_RECORDED, describe

# One reconciliation step returns (counter key, human description) for each change it made.
Change = tuple[str, str]


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


def _kept(record: Membership | SubscriptionFact | None) -> dict[str, Any] | None:
    """What the row keeps of a subscription (facts.subscription_state), start date aside."""
    if record is None:
        return None
    state = stored(record)
    del state["started_at"]
    return state


def sync_subscription(fact: SubscriptionFact, now: datetime) -> list[Change]:
    """Create or repair a membership from the subscription's current state."""
    current = db.session.scalar(
        select(Membership).where(Membership.stripe_subscription_id == fact.id)
    )
    before = _kept(current)
    if before == _kept(fact) or fact.interval not in MEMBERSHIP_INTERVALS:
        return []
    # The API gives the state as of now, newer than any event we may have missed.
    membership = records.apply_subscription(fact, now)
    after = _kept(membership)
    if membership is None or after == before:
        return []
    if before is None:
        return [("memberships_created", f"membership {fact.id} created ({fact.status})")]
    return [
        ("memberships_updated", f"membership {fact.id}: {before['status']} -> {after['status']}")
    ]


def sync_invoice(fact: InvoiceFact, now: datetime) -> list[Change]:
    """Record a paid membership invoice we have no (or a wrong) donation for."""
    if fact.amount_paid <= 0 or not fact.subscription_id:
        return []
    kind = invoices.invoice_kind(fact)
    # The list call expands `payments`: the API's way to what invoice_payment.paid says.
    paid = [p for p in fact.expanded_payments if p.status == "paid" and p.payment_intent_id]
    intent = fact.payment_intent_id or next((p.payment_intent_id for p in paid), None)
    donation = db.session.scalar(select(Donation).where(Donation.stripe_invoice_id == fact.id))
    if donation is not None and (
        donation.amount,
        donation.currency,
        donation.kind,
        bool(donation.stripe_payment_intent_id or not intent),
    ) == (fact.amount_paid, fact.currency, kind, True):
        return []
    for payment in paid:
        invoices.apply_invoice_payment(payment, now)
    invoices.apply_invoice_paid(fact, fact.paid_at or now)
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
    records.apply_checkout(fact, fact.paid_at or now)
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
    """Record a gift's charge we missed, and a refunded total that differs from ours."""
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
    # Either way: refunds we missed, or refunds that failed since (the money came back).
    refund_missing = fact.amount_refunded != refunded
    gift_missing = (
        fact.metadata.is_gift
        and db.session.scalar(
            select(Donation.id).where(Donation.stripe_payment_intent_id == fact.payment_intent_id)
        )
        is None
    )
    # A dispute that named only this charge waits for it (membership.pending_disputes).
    dispute_waiting = db.session.scalar(
        select(PendingDispute.id).where(PendingDispute.stripe_charge_id == fact.id).limit(1)
    )
    if not (refund_missing or gift_missing or dispute_waiting):
        return []
    # The API tells the charge as it is now, newer than any event we may have missed.
    adjustments.apply_charge(fact, now)
    changes: list[Change] = []
    if dispute_waiting:
        changes.append(
            ("disputes_linked", f"dispute of charge {fact.id} linked to {fact.payment_intent_id}")
        )
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


def sync_refund(fact: RefundFact, now: datetime) -> list[Change]:
    """Record a refund we missed, or the status it has moved to since."""
    row = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == fact.id))
    if row is not None and (row.status, row.amount) == (fact.status, fact.amount):
        return []
    adjustments.apply_refund(fact, now)
    before = "new" if row is None else row.status
    return [("refunds_recorded", f"refund {fact.id}: {before} -> {fact.status}")]


def _dispute_state(fact: DisputeFact) -> tuple[Any, ...] | None:
    """What we hold of a dispute: its payment's (status, amount held), or its waiting status."""
    if fact.payment_intent_id:
        held = db.session.execute(
            select(PaymentAdjustment.dispute_status, PaymentAdjustment.amount_disputed).where(
                PaymentAdjustment.stripe_payment_intent_id == fact.payment_intent_id,
                PaymentAdjustment.disputed.is_(True),
            )
        ).first()
        return tuple(held) if held else None
    waiting = db.session.scalar(
        select(PendingDispute.status).where(PendingDispute.stripe_dispute_id == fact.id)
    )
    return (waiting,) if waiting else None


def sync_dispute(fact: DisputeFact, now: datetime) -> list[Change]:
    """Record a dispute we missed, or the status it has moved to since (a lost one's money)."""
    held = _dispute_state(fact)
    told = (fact.status, fact.amount if dispute_withholds_funds(fact.status) else 0)
    # The dispute fee is on its withdrawal, which the dispute lists (payments.sync_fees).
    fees = [t for t in fact.balance_transactions if not balance.is_recorded(t.id)]
    if held is not None and held == told[: len(held)] and not fees:
        return []
    # The API tells the dispute as it is now, newer than any event we may have missed.
    adjustments.apply_dispute(fact, now)
    recorded = [(FEES_RECORDED, describe(t)) for t in fees if balance.is_recorded(t.id)]
    if _dispute_state(fact) == held:
        return recorded
    where = fact.payment_intent_id or f"charge {fact.charge_id}, waiting for it"
    before = "new" if held is None else held[0]
    kind = "disputes_recorded" if held is None else "disputes_updated"
    return [(kind, f"dispute {fact.id} of {where}: {before} -> {fact.status}"), *recorded]
