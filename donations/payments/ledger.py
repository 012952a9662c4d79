"""The webhook ledger: store each verified event once, process it, keep failures for replay."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from donations.core import dberrors
from donations.extensions import db
from donations.facts.facts import EventFact
from donations.facts.metadata import site_of
from donations.membership import adjustments, batch, invoices, pending, records
from donations.membership.locking import insert_if_absent, locked
from donations.models import NoEffect, StripeEvent, utcnow
from donations.payments import ownership
from donations.payments.event_locks import lock_events
from donations.payments.ownership import Owner

log = logging.getLogger(__name__)

# Event type -> the service that applies its object. Anything else is stored as ignored.
HANDLERS = {
    "checkout.session.completed": records.apply_checkout,
    "checkout.session.async_payment_succeeded": records.apply_checkout,
    "checkout.session.async_payment_failed": records.apply_checkout_failed,
    "checkout.session.expired": records.apply_checkout,
    "customer.subscription.created": records.apply_subscription_event,
    "customer.subscription.updated": records.apply_subscription_event,
    "customer.subscription.deleted": records.apply_subscription_event,
    "customer.subscription.paused": records.apply_subscription_event,
    "customer.subscription.resumed": records.apply_subscription_event,
    "invoice.paid": invoices.apply_invoice_paid,
    "invoice.payment_failed": invoices.apply_invoice_failed,
    "invoice_payment.paid": invoices.apply_invoice_payment,
    "charge.succeeded": adjustments.apply_charge,
    "charge.refunded": adjustments.apply_charge,
    # Each refund in its own status: a failed or canceled one gives the money back.
    "refund.created": adjustments.apply_refund,
    "refund.updated": adjustments.apply_refund,
    "refund.failed": adjustments.apply_refund,
    "charge.refund.updated": adjustments.apply_refund,
    "charge.dispute.created": adjustments.apply_dispute,
    "charge.dispute.updated": adjustments.apply_dispute,
    "charge.dispute.closed": adjustments.apply_dispute,
    "charge.dispute.funds_withdrawn": adjustments.apply_dispute,
    "charge.dispute.funds_reinstated": adjustments.apply_dispute,
}


# A handler that lost a race (deadlock, serialization failure) is run again this many times
# in all before its batch is rolled back and tried again whole.
SAVEPOINT_TRIES = 3


@dataclass(frozen=True)
class EventOutcome:
    """What happened to one delivery: the ledger status, and whether it was a repeat."""

    status: str
    duplicate: bool = False
    error: str | None = None
    no_effect: NoEffect | None = None  # processed, but changed nothing: why


def record(fact: EventFact) -> bool:
    """Store a verified event unless we hold it already; True when this call stored it."""
    return insert_if_absent(
        StripeEvent,
        "stripe_event_id",
        {
            "stripe_event_id": fact.id,
            "type": fact.type,
            "created": fact.created,
            "livemode": fact.livemode,
            "api_version": fact.api_version,
            "object_id": fact.object_id,
            "customer_id": fact.customer_id,
            "payload": fact.raw or json.dumps({"id": fact.id}),
            "status": "received",
        },
    )


def apply_stored(
    row: StripeEvent, fact: EventFact, livemode: bool, installation: str
) -> EventOutcome:
    """Run the handler inside a savepoint: its effects go, the ledger row stays.

    On a shared account, an object that becomes ours brings its held foreign events with it.
    """
    outcome, obj = _apply(row, fact, livemode, installation)
    if outcome.status == "processed" and ownership.account_shared():
        release(ownership.keys_of(obj).all(), livemode, installation)
    return outcome


def _apply(
    row: StripeEvent, fact: EventFact, livemode: bool, installation: str
) -> tuple[EventOutcome, Any]:
    row.attempts += 1
    handler = HANDLERS.get(fact.type)
    if fact.livemode != livemode:
        log.warning(
            "event %s is livemode=%s but we are livemode=%s; ignored",
            fact.id,
            fact.livemode,
            livemode,
        )
        return _finish(row, "ignored", "livemode does not match this site"), None
    if handler is None:
        return _finish(row, "ignored"), None
    obj = fact.parsed_object()
    owner = ownership.decide(obj, installation)
    if owner is Owner.OTHER_INSTALLATION:
        # Another environment on the same Stripe account (dev and staging on one test
        # account): its user ids are not ours, and its supporters are not ours to count.
        site = site_of(obj)
        log.warning(
            "event %s is about an object of installation %s, not ours (%s); ignored",
            fact.id,
            site,
            installation,
        )
        return _finish(row, "ignored", f"made by another installation ({site})"), obj
    if owner is Owner.FOREIGN:
        # Held, not applied: someone else's sale on a shared account (staff may adopt it).
        row.owner_key = ownership.keys_of(obj).root
        ownership.note_foreign(obj, fact.created)
        return _finish(row, "foreign", "not made by this site (STRIPE_ACCOUNT_SHARED=1)"), obj
    try:
        result = _run(handler, obj, fact)
    except Exception as exc:
        if dberrors.is_infrastructure(exc):
            # The database went away, or a race was lost: not this event's fault, and not an
            # attempt of it. The caller's transaction is rolled back and the event waits.
            raise
        log.exception("event %s (%s) failed", fact.id, fact.type)
        # PostgreSQL text can't hold a NUL, and the error may quote one from the payload.
        error = f"{type(exc).__name__}: {exc}".replace("\x00", "\\x00")
        return _finish(row, "failed", error), obj
    # A handler may say why the event changed nothing (membership.records): kept in the row.
    no_effect = result if isinstance(result, NoEffect) else None
    return _finish(row, "processed", no_effect=no_effect), obj


def release(ids: Iterable[str], livemode: bool, installation: str) -> int:
    """Apply the foreign events held under these ids, oldest first, once; return how many.

    Each one applied may link more (an invoice names its payment intent, whose charge was
    held), so it goes on until a round makes nothing more ours. An event still foreign stays.
    """
    known = set(ids)
    ownership.serialise(known)
    applied = 0
    while known:
        held = db.session.scalars(
            select(StripeEvent)
            .where(StripeEvent.status == "foreign", StripeEvent.owner_key.in_(sorted(known)))
            .order_by(StripeEvent.created, StripeEvent.id)
            .with_for_update()
        ).all()
        progressed = False
        for row in held:
            fact = EventFact.from_payload(json.loads(row.payload), raw=row.payload)
            outcome, obj = _apply(row, fact, livemode, installation)
            if outcome.status != "foreign":
                applied += outcome.status == "processed"
                progressed = True
                more = ownership.keys_of(obj).all() - known if obj is not None else set()
                ownership.serialise(more)
                known |= more
        if not progressed:
            break
    return applied


def _run(handler, obj, fact: EventFact) -> Any:
    """The handler in its own savepoint; a lost race (deadlock) is tried again at once.

    Rolling back to the savepoint frees what it locked, so the other side goes on; a short
    random pause keeps the two from meeting again.
    """
    for attempt in range(1, SAVEPOINT_TRIES + 1):
        try:
            with pending.nested(), db.session.begin_nested():
                result = handler(obj, fact.created)
            return result
        except Exception as exc:
            if attempt == SAVEPOINT_TRIES or dberrors.classify(exc) != dberrors.RETRY:
                raise
            log.warning("event %s (%s): %s; trying again", fact.id, fact.type, _first_line(exc))
            dberrors.jitter_sleep(attempt)


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _finish(
    row: StripeEvent,
    status: str,
    error: str | None = None,
    *,
    no_effect: NoEffect | None = None,
    flush: bool = True,
) -> EventOutcome:
    row.status = status
    row.error = error
    row.no_effect = no_effect
    row.processed_at = utcnow()
    if flush:
        db.session.flush()
    return EventOutcome(status=status, error=error, no_effect=no_effect)


SUBSCRIPTION_EVENTS = frozenset(
    t for t, handler in HANDLERS.items() if handler is records.apply_subscription_event
)


def apply_stored_many(
    stored: list[tuple[StripeEvent, EventFact]], livemode: bool, installation: str
) -> list[EventOutcome]:
    """apply_stored for each, with subscription facts that can go together applied at once.

    The batch runs in one savepoint: if it fails (a deadlock, a bug), it leaves nothing and
    every event goes the one-by-one way, where a failure is its own event's alone. First the
    advisory locks of every event are taken (payments.event_locks), so two workers' batches
    never wait on each other in a circle. A lost connection is raised, to the worker.
    """
    lock_events(fact for _, fact in stored)
    candidates = []
    for row, fact in stored:
        if fact.type in SUBSCRIPTION_EVENTS and fact.livemode == livemode:
            obj = fact.parsed_object()
            if ownership.decide(obj, installation) is Owner.OURS:
                candidates.append(batch.Item(fact=obj, at=fact.created, ref=row))
    applied: list[batch.Item] = []
    if len(candidates) > 1:
        try:
            with pending.nested(), db.session.begin_nested():
                applied, _ = batch.apply_subscriptions(candidates)
        except Exception as exc:
            if dberrors.classify(exc) == dberrors.OUTAGE:
                raise
            log.warning(
                "applying %d subscription facts together failed (%s); one by one instead",
                len(candidates),
                _first_line(exc),
                exc_info=dberrors.classify(exc) is None,
            )
            applied = []
    done = {id(item.ref): item for item in applied}
    if applied and ownership.account_shared():
        linked = set().union(*(ownership.keys_of(item.fact).all() for item in applied))
        release(linked, livemode, installation)
    outcomes = []
    for row, fact in stored:
        if id(row) in done:
            row.attempts += 1
            no_effect = done[id(row)].no_effect
            outcomes.append(_finish(row, "processed", no_effect=no_effect, flush=False))
        else:
            outcomes.append(apply_stored(row, fact, livemode, installation))
    db.session.flush()
    return outcomes


def receive(fact: EventFact, *, livemode: bool, installation: str) -> EventOutcome:
    """Store a verified event (once) and process it unless it was already done.

    `installation` is our tag (payments.gateway.key_namespace): an event about an object
    another installation tagged is stored as ignored.
    """
    record(fact)
    # The lock makes a concurrent copy wait here until the first one has committed.
    row = locked(StripeEvent, StripeEvent.stripe_event_id, fact.id)
    assert row is not None
    if row.status in ("processed", "ignored", "foreign"):
        return EventOutcome(status=row.status, duplicate=True)
    return apply_stored(row, fact, livemode, installation)


def replay(stripe_event_id: str, *, livemode: bool, installation: str) -> EventOutcome:
    """Process a stored event again from its stored payload (for failed ones)."""
    row = locked(StripeEvent, StripeEvent.stripe_event_id, stripe_event_id)
    if row is None:
        raise LookupError(f"no stored event {stripe_event_id}")
    fact = EventFact.from_payload(json.loads(row.payload), raw=row.payload)
    return apply_stored(row, fact, livemode, installation)


def stored_status(stripe_event_id: str) -> str | None:
    """The ledger status of one event (None: never stored), as committed by now."""
    db.session.rollback()  # read what the server committed, not an older snapshot
    return db.session.scalar(
        select(StripeEvent.status).where(StripeEvent.stripe_event_id == stripe_event_id)
    )
