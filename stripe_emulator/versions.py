"""Objects as an older API version shows them, for webhook endpoints pinned to one.

The emulator builds every object in the current layout. An endpoint keeps the `api_version` it
was created with (Stripe never upgrades it; API reference, Webhook Endpoint `api_version`), and
its payloads are rendered in that version. This module turns the current layout back into the
older one for the fields integrations read:

- before 2025-03-31.basil (changelog basil/2025-03-31):
  - "Adds subscription item-level billing periods and removes subscription-level periods":
    a subscription carries `current_period_start`/`current_period_end` at the top, and its
    items carry none; a renewal's `previous_attributes` name the top-level period.
  - "Invoicing resources now specify how they were generated": an invoice has top-level
    `subscription` and `subscription_details` and no `parent`; its lines have `type`,
    `subscription`, `subscription_item`, `proration`, `proration_details` and `invoice_item`
    instead of `parent`.
  - "Adds support for multiple (partial) payments on invoices": an invoice has top-level
    `payment_intent`, `charge`, `paid` and `paid_out_of_band`.
- before 2022-11-15 ("The Charges object no longer auto-expands refunds by default"): a charge
  includes its `refunds` list.

Subscription items carry `plan` (and `price`) in every version, so they need no change
(stripe-behaviour.md, "Older layouts").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import includable

BASIL = "2025-03-31"
CHARGE_REFUNDS_INCLUDABLE = "2022-11-15"

# Looks up a stored object by id (the invoice's charge is its payment intent's latest charge).
Lookup = Callable[[str], dict[str, Any] | None]


def before(version: str, date: str) -> bool:
    """Whether an API version (`2024-06-20`, `2025-03-31.basil`) is older than a date."""
    return version[:10] < date


def included_by_default(version: str) -> set[str]:
    """Includable fields this version still sends unasked (paths relative to the object)."""
    return {"refunds"} if before(version, CHARGE_REFUNDS_INCLUDABLE) else set()


PERIOD = ("current_period_start", "current_period_end")


def render(obj: dict[str, Any], version: str, lookup: Lookup) -> dict[str, Any]:
    """Return `obj` (a public copy in the current layout) as `version` shows it; mutates it."""
    kind = obj.get("object")
    if before(version, BASIL):
        if kind == "subscription":
            _subscription_before_basil(obj)
        elif kind == "invoice":
            _invoice_before_basil(obj, lookup)
    includable.strip(obj, included_by_default(version) if kind == "charge" else set())
    return obj


def render_previous(obj: dict[str, Any], previous: dict[str, Any], version: str) -> dict[str, Any]:
    """Return an event's `previous_attributes` in `version`'s layout (`obj` already is)."""
    kind = str(obj.get("object"))
    if kind == "subscription" and before(version, BASIL) and "items" in previous:
        # The period moves from the items back to the top: it changed there, and the items
        # (without periods in that version) may not have changed at all.
        old_items = previous["items"] or {}
        first = (old_items.get("data") or [{}])[0]
        for field in PERIOD:
            if field in first:
                previous[field] = first[field]
        for item in old_items.get("data") or []:
            for field in PERIOD:
                item.pop(field, None)
        if old_items == obj.get("items"):
            del previous["items"]
    includable.strip_previous(kind, previous, included_by_default(version))
    return previous


def _subscription_before_basil(sub: dict[str, Any]) -> None:
    items = (sub.get("items") or {}).get("data") or []
    first = items[0] if items else {}
    sub["current_period_start"] = first.get("current_period_start")
    sub["current_period_end"] = first.get("current_period_end")
    for item in items:
        for field in PERIOD:
            item.pop(field, None)


def _invoice_before_basil(inv: dict[str, Any], lookup: Lookup) -> None:
    details = (inv.pop("parent", None) or {}).get("subscription_details") or None
    inv["subscription"] = details["subscription"] if details else None
    inv["subscription_details"] = {"metadata": details["metadata"]} if details else None
    inv["quote"] = None
    payments = (inv.get("payments") or {}).get("data") or []
    payment = next((p for p in payments if p.get("is_default")), payments[0] if payments else {})
    pi_id = (payment.get("payment") or {}).get("payment_intent")
    pi = lookup(pi_id) if pi_id else None
    inv["payment_intent"] = pi_id
    inv["charge"] = pi.get("latest_charge") if pi else None
    inv["paid"] = inv.get("status") == "paid"
    inv["paid_out_of_band"] = False
    for line in (inv.get("lines") or {}).get("data") or []:
        parent = line.pop("parent", None) or {}
        item = parent.get("subscription_item_details") or {}
        line["type"] = "subscription" if item else "invoiceitem"
        line["subscription"] = item.get("subscription")
        line["subscription_item"] = item.get("subscription_item")
        line["invoice_item"] = item.get("invoice_item")
        line["proration"] = bool(item.get("proration"))
        line["proration_details"] = item.get("proration_details") or {"credited_items": None}
