"""Disputes that name only a charge we have not heard of yet, kept until we can place them.

A dispute names its charge, and its payment intent only when the charge was made through
one (the `payment_intent` of a dispute may be null: stripe-fixtures/dispute.json). Our
records are keyed by payment intent, so such a dispute waits here, newest fact only (the
same rule as a payment's dispute), until a charge event tells which payment intent the
charge belongs to; membership.adjustments then applies it and the row goes.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, select

from donations.extensions import db
from donations.facts.facts import DisputeFact
from donations.facts.payload import dig, obj_id
from donations.membership.locking import get_or_create_locked
from donations.models import PendingDispute, StripeEvent
from donations.models.statuses import dispute_fact_wins


def keep_waiting(fact: DisputeFact, at: datetime) -> None:
    """Keep a dispute fact until its charge is known (only the newest fact of a dispute)."""
    assert fact.charge_id, "a dispute without a charge can never be placed"
    values = {
        "stripe_charge_id": fact.charge_id,
        "status": fact.status,
        "payload": json.dumps(fact.source),
        "fact_at": at,
    }
    row = get_or_create_locked(
        PendingDispute, PendingDispute.stripe_dispute_id, fact.id, dict(values)
    )
    if dispute_fact_wins(row.status, row.fact_at, fact.status, at):
        for name, value in values.items():
            setattr(row, name, value)
    db.session.flush()


def take_waiting(charge_id: str | None) -> list[tuple[DisputeFact, datetime]]:
    """The facts of disputes that waited for this charge, forgotten here (the caller applies)."""
    if not charge_id:
        return []
    rows = list(
        db.session.scalars(
            select(PendingDispute)
            .where(PendingDispute.stripe_charge_id == charge_id)
            .order_by(PendingDispute.stripe_dispute_id)
            .with_for_update()
        )
    )
    if not rows:
        return []
    db.session.execute(delete(PendingDispute).where(PendingDispute.id.in_([r.id for r in rows])))
    return [(DisputeFact.from_dict(json.loads(r.payload)), r.fact_at) for r in rows]


def intent_heard_of(charge_id: str | None) -> str | None:
    """The payment intent of a charge an event told us of, stored or waiting in the ledger.

    For a dispute that came after its charge: the charge's own events say which payment it
    belongs to, though a charge changes no record we could look it up by.
    """
    if not charge_id:
        return None
    payloads = db.session.scalars(
        select(StripeEvent.payload)
        .where(StripeEvent.object_id == charge_id, StripeEvent.type.like("charge.%"))
        .limit(5)
    )
    for text in payloads:
        try:
            intent = obj_id(dig(json.loads(text), "data", "object", "payment_intent"))
        except ValueError:  # a payload we stored must parse; never fail a dispute on it
            continue
        if isinstance(intent, str) and intent:
            return intent
    return None
