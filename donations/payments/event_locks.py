"""Advisory locks on what a worker's batch is about, taken in one global order (PostgreSQL).

Two workers' batches may hold events about the same customer (a Checkout's six events arrive
within a second). Each event's handler locks its person, membership and payment rows as it
goes, so two batches could lock the same rows in opposite orders and deadlock (issue 18).
Before applying anything a batch takes a transaction-scoped advisory lock on every Stripe id
its events name (customer, subscription, invoice, payment intent, charge, session, our user
id), all in ascending key order: a batch waits for the other to commit, never in a circle.
SQLite writes one transaction at a time, so there it is a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text

from donations.extensions import db
from donations.facts.facts import EventFact
from donations.facts.payload import (
    dig,
    invoice_subscription,
    invoice_subscription_metadata,
    obj_id,
)

# Fields of an event's object that name another Stripe object the handlers lock rows of.
_REFERENCES = ("customer", "subscription", "invoice", "payment_intent", "charge")


def _names(obj: dict[str, Any]) -> set[str]:
    names = {obj_id(obj.get(field)) for field in ("id", *_REFERENCES)}
    names.add(obj_id(dig(obj, "payment", "payment_intent")))  # invoice_payment
    metadata = obj.get("metadata")
    if obj.get("object") == "invoice":
        names.add(invoice_subscription(obj))
        metadata = invoice_subscription_metadata(obj) or metadata
    user = metadata.get("user_id") if isinstance(metadata, dict) else None
    reference = obj.get("client_reference_id")
    names.update(f"user:{u}" for u in (user, reference) if u)
    return {n for n in names if isinstance(n, str) and n}


def _key(name: str) -> int:
    """A stable signed 64-bit key for a name (Python's hash() differs between processes)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def event_locks(fact: EventFact) -> set[int]:
    """The advisory lock keys of one event: one per Stripe object (or user) it names."""
    try:
        return {_key(name) for name in _names(fact.object)}
    except (AttributeError, TypeError):
        return set()  # a malformed object locks nothing; its handler will fail on its own


def lock_events(facts: Iterable[EventFact]) -> int:
    """Take every event's locks until the transaction ends, in ascending order; return how many."""
    if db.session.get_bind().dialect.name != "postgresql":
        return 0
    keys = sorted(set().union(*(event_locks(f) for f in facts)))
    if keys:
        # unnest yields the sorted array's elements in order, and each lock is taken as its
        # row is produced: one round trip, still one lock after the other in key order.
        db.session.execute(
            text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) k"),
            {"keys": keys},
        )
    return len(keys)
