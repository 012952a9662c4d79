"""The emulated REST API, part one: customers, Checkout, events and the balance."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import objects as o
from .checkout import create_session
from .errors import StripeError
from .forms import merge_metadata, metadata, reject_unknown
from .listing import filter_created, filter_eq, paginate
from .routing import fetch
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

CUSTOMER_FIELDS = {"email", "name", "description", "phone", "metadata", "preferred_locales"}


# --- customers ---------------------------------------------------------------------------


def customer_create(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """Create a customer."""
    reject_unknown(params, CUSTOMER_FIELDS)
    cust = o.customer(params.get("email") or None, params.get("name") or None)
    cust["description"] = params.get("description") or None
    cust["phone"] = params.get("phone") or None
    cust["metadata"] = metadata(params.get("metadata"))
    tx.put(cust)
    emu.emit(tx, "customer.created", cust)
    return cust


def customer_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], cid: str) -> dict[str, Any]:
    """Retrieve a customer."""
    return fetch(tx, "customer", cid)


def customer_update(emu: Emulator, tx: Tx, params: dict[str, Any], cid: str) -> dict[str, Any]:
    """Update a customer's email, name, description, phone or metadata."""
    reject_unknown(params, CUSTOMER_FIELDS)
    cust = fetch(tx, "customer", cid)
    previous: dict[str, Any] = {}
    for field in ("email", "name", "description", "phone"):
        if field in params and (params[field] or None) != cust[field]:
            previous[field] = cust[field]
            cust[field] = params[field] or None
    if "metadata" in params:
        merged = merge_metadata(cust["metadata"], params["metadata"])
        if merged != cust["metadata"]:
            previous["metadata"] = cust["metadata"]
            cust["metadata"] = merged
    tx.put(cust)
    if previous:
        emu.emit(tx, "customer.updated", cust, previous_attributes=previous)
    return cust


def customer_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """List customers, newest first, optionally by `email`."""
    items = filter_eq(filter_created(tx.list("customer"), params), params, "email")
    return paginate(items, params, "/v1/customers")


# --- Checkout ----------------------------------------------------------------------------


def session_create(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """Create a Checkout Session."""
    return create_session(emu, tx, params)


def session_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], sid: str) -> dict[str, Any]:
    """Retrieve a Checkout Session."""
    return fetch(tx, "checkout.session", sid, "checkout.session")


def session_line_items(emu: Emulator, tx: Tx, params: dict[str, Any], sid: str) -> dict[str, Any]:
    """List a Checkout Session's line items."""
    session = fetch(tx, "checkout.session", sid, "checkout.session")
    url = f"/v1/checkout/sessions/{sid}/line_items"
    return paginate(session[o.PRIVATE + "line_items"]["data"], params, url)


def session_expire(emu: Emulator, tx: Tx, params: dict[str, Any], sid: str) -> dict[str, Any]:
    """Expire an open Checkout Session."""
    session = fetch(tx, "checkout.session", sid, "checkout.session")
    if session["status"] != "open":
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session["status"]}".',
        )
    session.update(status="expired", url=None)
    tx.put(session)
    emu.emit(tx, "checkout.session.expired", session)
    return session


def session_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """List Checkout Sessions, by customer, payment_intent, subscription or status."""
    items = filter_created(tx.list("checkout.session"), params)
    items = filter_eq(items, params, "customer", "payment_intent", "subscription", "status")
    return paginate(items, params, "/v1/checkout/sessions")


# --- events ------------------------------------------------------------------------------


def event_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], eid: str) -> dict[str, Any]:
    """Retrieve an event."""
    return fetch(tx, "event", eid)


def event_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """List events, by `type` (with `*` wildcards) or `types[]`, and `created` bounds."""
    items = filter_created(tx.list("event"), params)
    wanted = [params["type"]] if params.get("type") else list(params.get("types") or [])
    if wanted:
        patterns = [re.compile("^" + re.escape(t).replace(r"\*", "[^ ]*") + "$") for t in wanted]
        items = [i for i in items if any(p.match(i["type"]) for p in patterns)]
    return paginate(items, params, "/v1/events")


# --- balance -----------------------------------------------------------------------------


def balance_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """GET /v1/balance: the `balance` fixture's shape; `livemode` says which mode the key is in."""
    return {
        "object": "balance",
        "available": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
        "connect_reserved": [{"amount": 0, "currency": "usd"}],
        "livemode": emu.livemode,
        "pending": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
    }
