"""Stripe events: building, queueing one delivery per subscribed endpoint, payloads, signing."""

from __future__ import annotations

import contextvars
import copy
import hashlib
import hmac
import json
import time
from typing import Any

from . import versions
from .objects import new_id, now, public
from .store import Tx
from .webhook_endpoints import subscribers

# The API request being handled, so events can name it in `request` as Stripe does.
CURRENT_REQUEST: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "stripe_emulator_request", default=None
)

DROP_SETTING = "drop_deliveries"


def build_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    api_version: str,
    previous_attributes: dict[str, Any] | None = None,
    livemode: bool = False,
) -> dict[str, Any]:
    """Return a Stripe `event` carrying a snapshot of `obj` (includable lists kept aside)."""
    request = CURRENT_REQUEST.get()
    data: dict[str, Any] = {"object": public(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = public(previous_attributes)
    return {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": api_version,
        "created": now(),
        "data": data,
        "livemode": livemode,
        "pending_webhooks": 0,
        "request": {
            "id": request[0] if request else None,
            "idempotency_key": request[1] if request else None,
        },
        "type": event_type,
    }


def emit(
    tx: Tx,
    event_type: str,
    obj: dict[str, Any],
    *,
    api_version: str,
    previous_attributes: dict[str, Any] | None = None,
    livemode: bool = False,
) -> dict[str, Any]:
    """Store an event and queue it for every endpoint that subscribes, in the same transaction.

    An event nobody subscribes to is still stored (and listed by /v1/events), but goes nowhere.
    """
    event = build_event(
        event_type,
        obj,
        api_version=api_version,
        previous_attributes=previous_attributes,
        livemode=livemode,
    )
    endpoints = subscribers(tx, event_type)
    # Stripe's count of endpoints this event still has to reach, as of its creation.
    event["pending_webhooks"] = len(endpoints)
    tx.put(event)
    dropped = tx.setting(DROP_SETTING) == "1"
    for endpoint in endpoints:
        tx.enqueue(event["id"], endpoint["id"], status="dropped" if dropped else "pending")
    return event


def payload_for(event: dict[str, Any], version: str, lookup: versions.Lookup) -> bytes:
    """The body one endpoint receives: the event rendered in the endpoint's API version."""
    rendered = copy.deepcopy(event)
    rendered["api_version"] = version
    data = rendered["data"]
    data["object"] = versions.render(data["object"], version, lookup)
    if "previous_attributes" in data:
        data["previous_attributes"] = versions.render_previous(
            data["object"], data["previous_attributes"], version
        )
    return payload_of(rendered)


def payload_of(event: dict[str, Any]) -> bytes:
    """Serialise an event as Stripe sends it (pretty-printed JSON)."""
    return json.dumps(event, indent=2).encode()


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return a `Stripe-Signature` header: `t=<unix>,v1=<hmac-sha256 of "t.payload">`."""
    ts = int(time.time()) if timestamp is None else timestamp
    signed = f"{ts}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"
