"""The shape a webhook event must have before anything of it is stored.

A signed event can still be malformed (a bug, a replayed fixture, a hostile test): an id no
column can hold, a timestamp past the calendar, an object where an id belongs, a NUL byte
that PostgreSQL refuses in text, or half a surrogate pair, which no database can store; an
event whose object is not the kind its type names (a `customer.subscription.updated` without
`"object": "subscription"`), or an expanded reference without its id. Such an event is
refused whole (400) and stored nowhere, rather than failing half-way into the database or in
its handler with a 500 that Stripe retries for days.
"""

from __future__ import annotations

from typing import Any

ID_MAX = 255  # stripe_events.stripe_event_id, object_id, customer_id
TYPE_MAX = 100  # stripe_events.type
API_VERSION_MAX = 40  # stripe_events.api_version
# Unix time of 9999-12-31T23:59:59Z, the last second a datetime can hold.
CREATED_MAX = 253_402_300_799
DEPTH_MAX = 32

# Stripe names each event "<object>.<action>" and sends that object as data.object (API
# reference, "Types of events"): the object type of every event type we handle, by its part
# before the action. tests/hardening/test_webhook_envelope.py checks it covers payments.ledger.
OBJECT_OF_EVENT = {
    "checkout.session": "checkout.session",
    "customer": "customer",
    "customer.subscription": "subscription",
    "invoice": "invoice",
    "invoice_payment": "invoice_payment",
    "charge": "charge",
    "charge.refund": "refund",
    "charge.dispute": "dispute",
    "refund": "refund",
}
# The references our handlers read off an object: an id, or an expanded object with its id.
REFERENCES = ("customer", "subscription", "invoice", "charge", "payment_intent")


class MalformedEvent(ValueError):
    """A signed event that is not shaped like a Stripe event; the message says what."""


def _text(value: Any, name: str, limit: int, *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value or len(value) > limit:
        raise MalformedEvent(f"{name} must be a string of 1 to {limit} characters")


def _reference(value: Any, name: str) -> None:
    """An id field: absent, an id string, or an expanded object with an id string."""
    if isinstance(value, dict):
        _text(value.get("id"), f"{name}.id", ID_MAX)  # expanded: it names itself
        return
    _text(value, name, ID_MAX, required=False)


def object_of_event(event_type: str) -> str | None:
    """The object type an event of this type carries, when it is one we know."""
    return OBJECT_OF_EVENT.get(event_type.rpartition(".")[0])


def _storable(value: Any, depth: int = 0) -> None:
    """Every string can be stored: no NUL (PostgreSQL text refuses it) and valid Unicode."""
    if depth > DEPTH_MAX:
        raise MalformedEvent("nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise MalformedEvent("contains a NUL character")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                # JSON may escape half of a surrogate pair ("\ud800"); no database takes it.
                raise MalformedEvent("contains an unpaired surrogate (not Unicode)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, depth + 1)
            _storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable(item, depth + 1)


def check_envelope(event: Any) -> None:
    """Raise MalformedEvent unless `event` has the envelope our ledger stores."""
    if not isinstance(event, dict):
        raise MalformedEvent("not a JSON object")
    _text(event.get("id"), "id", ID_MAX)
    _text(event.get("type"), "type", TYPE_MAX)
    _text(event.get("api_version"), "api_version", API_VERSION_MAX, required=False)
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int):
        raise MalformedEvent("created must be a whole number of seconds")
    if not 0 <= created <= CREATED_MAX:
        raise MalformedEvent("created is outside the calendar")
    if not isinstance(event.get("livemode", False), bool):
        raise MalformedEvent("livemode must be true or false")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent("data.object must be an object")
    expected = object_of_event(event["type"])
    if expected is not None and obj.get("object") != expected:
        raise MalformedEvent(f'data.object of a {event["type"]} event must be a "{expected}"')
    _text(obj.get("id"), "data.object.id", ID_MAX, required=expected is not None)
    for name in REFERENCES:
        _reference(obj.get(name), f"data.object.{name}")
    _storable(event)
