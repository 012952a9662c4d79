"""The webhook ledger as a durable queue (WEBHOOK_QUEUE=1): store now, process in a worker.

In a storm, the endpoint's whole work per event is one INSERT … ON CONFLICT DO NOTHING and a
commit; `flask webhooks work` takes stored events in batches with SELECT … FOR UPDATE SKIP
LOCKED (several workers never take the same event) and applies each in its own savepoint
through the same ledger function as inline processing. Each event's effects and its
`processed` status commit together, so it takes effect exactly once, in any order; a failed
one is retried a few times and then kept, with its error, for `stripe replay`. A batch first
takes advisory locks on what its events name (payments.event_locks) and writes the counter and
totals last (membership.pending), so several workers never deadlock; the database going away
ends no worker (payments.worker_loop).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import and_, select, update

from donations.extensions import db
from donations.facts.facts import EventFact
from donations.membership.deferred import deferred_counts
from donations.models import StripeEvent, utcnow
from donations.payments.backlog import webhook_backlog
from donations.payments.ledger import EventOutcome, apply_stored_many, record
from donations.payments.worker_loop import WorkerLoop

__all__ = ["enqueue", "webhook_backlog", "work", "work_batch"]

BATCH = 100
MAX_ATTEMPTS = 5  # a failed event is retried this many times in all, RETRY_AFTER apart
RETRY_AFTER = timedelta(seconds=60)


def enqueue(fact: EventFact) -> EventOutcome:
    """Store a verified event for the worker; a copy we already hold changes nothing."""
    if record(fact):
        return EventOutcome(status="queued")
    # Stripe redelivers what it thinks failed: a failed event goes back in the queue.
    requeued = db.session.execute(
        update(StripeEvent)
        .where(StripeEvent.stripe_event_id == fact.id, StripeEvent.status == "failed")
        .values(status="received")
    ).rowcount
    return EventOutcome(status="queued", duplicate=not requeued)


def _claim(where, limit: int) -> list[StripeEvent]:
    return list(
        db.session.scalars(
            select(StripeEvent)
            .where(where)
            # The (status, received_at) index gives the oldest first without a sort.
            .order_by(StripeEvent.received_at, StripeEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def claim(limit: int) -> list[StripeEvent]:
    """Up to `limit` events no other worker holds: waiting ones, else failed ones due again."""
    rows = _claim(StripeEvent.status == "received", limit)
    if not rows:
        due = and_(
            StripeEvent.status == "failed",
            StripeEvent.attempts < MAX_ATTEMPTS,
            StripeEvent.processed_at < utcnow() - RETRY_AFTER,
        )
        rows = _claim(due, limit)
    return rows


def apply_claimed(rows: list[StripeEvent], livemode: bool, installation: str) -> list[EventOutcome]:
    """Apply claimed events; their count changes are written last, in one order."""
    stored = [
        (row, EventFact.from_payload(json.loads(row.payload), raw=row.payload)) for row in rows
    ]
    with deferred_counts():
        return apply_stored_many(stored, livemode, installation)


def work_batch(*, livemode: bool, installation: str, limit: int = BATCH) -> list[EventOutcome]:
    """Take up to `limit` waiting events no other worker holds, and apply them; caller commits."""
    return apply_claimed(claim(limit), livemode, installation)


def work(
    *,
    livemode: bool,
    installation: str,
    stop: Callable[[], bool],
    once: bool = False,
    batch: int = BATCH,
    idle: float = 0.2,
) -> int:
    """Process batches until stop() (or, with once, until the queue is empty); return a count.

    A queue that was empty or less than a batch is looked at again after `idle` seconds, so a
    paid reader's thanks page confirms well within two seconds. The database going away never
    stops it (payments.worker_loop).
    """
    loop = WorkerLoop(
        claim=claim,
        apply=lambda rows: apply_claimed(rows, livemode, installation),
        batch=batch,
    )
    try:
        while not stop():
            outcomes = loop.step()
            if outcomes is None:
                continue  # the batch was put back: try again (the loop waited as it had to)
            if not outcomes and once:
                break
            if len(outcomes) < batch and not once and not loop.isolating:
                # The queue is empty, or was nearly so: let arrivals gather for a moment. In a
                # storm, a worker that keeps up takes a handful at a time and pays a batch's
                # fixed cost for each handful (bench/README.md); waiting `idle` makes batches
                # fuller and costs a paid reader's confirmation at most `idle`.
                loop.rest(idle)
    finally:
        loop.stopped()
    return loop.done
