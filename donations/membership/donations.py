"""Donation rows shared by every kind of payment fact: gifts by payment intent, and the
merge rules that make facts about one payment commute."""

from __future__ import annotations

from datetime import datetime

from donations.facts.metadata import CheckoutMetadata
from donations.membership.locking import get_or_create_locked
from donations.models import Donation


def merge_payment(
    donation: Donation,
    *,
    paid_at: datetime | None,
    email: str | None,
    customer_id: str | None,
    user_id: int | None,
) -> None:
    """Fold one fact's view of a payment into its donation, in any order."""
    # min() and "first non-empty" commute, so the order of events doesn't matter.
    if paid_at and paid_at < donation.paid_at:
        donation.paid_at = paid_at
    donation.email = donation.email or email
    donation.stripe_customer_id = donation.stripe_customer_id or customer_id
    donation.user_id = donation.user_id or user_id


def record_gift(
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
    merge_payment(donation, paid_at=paid_at, email=email, customer_id=customer_id, user_id=user_id)
    return donation
