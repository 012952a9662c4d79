"""Helpers for the event-sequence tests: which types arrived (as a multiset), and of which kind."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import stripe

from .conftest import Inbox

# shared/stripe-behaviour.md, Sequences: "subscription through Checkout"
SUBSCRIPTION_CHECKOUT = Counter(
    [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
        "customer.subscription.updated",
        "checkout.session.completed",
    ]
)
# "one-time payment through Checkout" (customer.created only when Checkout creates one)
ONE_TIME_CHECKOUT = Counter(
    [
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.completed",
        "charge.updated",
    ]
)
# shared/stripe-behaviour.md, Sequences: "renewal" (invoice.upcoming days before)
NEW_PERIOD = Counter(
    [
        "invoice.upcoming",
        "invoice.created",
        "customer.subscription.updated",
        "invoice.finalized",
        "payment_intent.created",
    ]
)
PAID = Counter(
    [
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice_payment.paid",
    ]
)
FAILED = Counter(["charge.failed", "payment_intent.payment_failed", "invoice.payment_failed"])
PAST_DUE = Counter(["customer.subscription.updated"])

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe"


def delivered(emu: Any, inbox: Inbox) -> list[stripe.Event]:
    """Deliver what is queued, then return (and forget) every event the inbox received."""
    emu.deliver_pending(timeout=2)
    events = inbox.events()
    inbox.received.clear()
    return events


def types(events: list[stripe.Event]) -> Counter[str]:
    """The event types as a multiset: Stripe guarantees no order, so tests compare these."""
    return Counter(event.type for event in events)


def only(events: list[stripe.Event], event_type: str) -> stripe.Event:
    """The one event of a type (fails if there are none or several)."""
    (event,) = [e for e in events if e.type == event_type]
    return event


def of_type(events: list[stripe.Event], event_type: str) -> list[stripe.Event]:
    """Every event of a type, in delivery order."""
    return [e for e in events if e.type == event_type]


def fixture_keys(name: str) -> set[str]:
    """The top-level fields of one of Stripe's example objects (tests/fixtures/stripe)."""
    return set(json.loads((FIXTURES / f"{name}.json").read_text()))
