"""Reading Stripe payloads of every API version an endpoint may be pinned to: one home for
the places where the layout moved.

Stripe shapes each webhook in the endpoint's own API version, fixed when the endpoint was
created, so a site receives the current layout (2025-03-31 basil and later) or an older one:

- a subscription's period: on its items (current) or at the top (older);
- an invoice's subscription and its metadata: under `parent.subscription_details` (current),
  at the top with `subscription_details.metadata` (2023-2024), or at the top with no metadata;
- an invoice's payment intent: at the top in older layouts only (the current layout names
  it in `invoice_payment` objects);
- a subscription item's billing: `price` (2020 on), else `plan`; very old subscriptions
  carry `plan` and `quantity` at the top.

Each reader tries the current place first. Plain data in, plain data out; no stripe import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The one Stripe API version every request and our webhook endpoint are pinned to: the
# "current" layout read here. Settings take it from this module (no Stripe SDK behind it);
# the gateway pins the client to the setting, and the emulator answers in this layout.
STRIPE_API_VERSION = "2026-10-28.endive"


def ts(value: Any) -> datetime | None:
    """An aware UTC datetime from a Unix timestamp; None when absent."""
    return datetime.fromtimestamp(int(value), UTC) if value else None


def obj_id(value: Any) -> str | None:
    """The id of a reference, expanded (an object) or not (a string)."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def dig(data: Any, *path: str | int) -> Any:
    """Follow keys and list indexes; None as soon as one is missing."""
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and len(data) > key:
            data = data[key]
        else:
            return None
        if data is None:
            return None
    return data


def listed(data: Any, *path: str) -> list[dict[str, Any]]:
    """The `data` of a list object at `path`, or [] when it is absent (not expanded)."""
    items = dig(data, *path, "data")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def as_before(obj: dict[str, Any], previous_attributes: dict[str, Any]) -> dict[str, Any]:
    """The object as it was before an `*.updated` event, from the event's previous_attributes.

    Stripe's previous_attributes hold the old values of what changed: a hash only its changed
    keys, an array whole (API reference, the Event object, `data.previous_attributes`).
    """
    before = dict(obj)
    for key, old in previous_attributes.items():
        current = before.get(key)
        if isinstance(old, dict) and isinstance(current, dict):
            before[key] = as_before(current, old)
        else:
            before[key] = old
    return before


# --- subscriptions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Billing:
    """What a subscription bills per period: interval times count, amount, currency."""

    interval: str | None
    interval_count: int
    amount: int  # minor units per period, quantity included
    currency: str


def first_item(sub: dict[str, Any]) -> dict[str, Any]:
    """The subscription's first item ({} when it has none)."""
    return dig(sub, "items", "data", 0) or {}


def period_start(sub: dict[str, Any]) -> datetime | None:
    """Start of the current period: on the item (current), else at the top (older)."""
    return ts(first_item(sub).get("current_period_start") or sub.get("current_period_start"))


def period_end(sub: dict[str, Any]) -> datetime | None:
    """End of the current period: on the item (current), else at the top (older)."""
    return ts(first_item(sub).get("current_period_end") or sub.get("current_period_end"))


def billing(sub: dict[str, Any]) -> Billing:
    """The subscription's billing from its first item's price, else its plan."""
    item = first_item(sub)
    price = item.get("price") or {}
    plan = item.get("plan") or sub.get("plan") or {}
    recurring = price.get("recurring") or {}
    amount = price.get("unit_amount")
    if amount is None:
        amount = plan.get("amount")
    quantity = item.get("quantity") or sub.get("quantity") or 1
    return Billing(
        interval=recurring.get("interval") or plan.get("interval"),
        interval_count=int(recurring.get("interval_count") or plan.get("interval_count") or 1),
        amount=int(amount or 0) * int(quantity),
        currency=(sub.get("currency") or price.get("currency") or plan.get("currency") or "")
        .lower()
        .strip(),
    )


# --- invoices ----------------------------------------------------------------------------


def invoice_subscription(inv: dict[str, Any]) -> str | None:
    """The subscription that generated the invoice; None for a one-off invoice."""
    current = obj_id(dig(inv, "parent", "subscription_details", "subscription"))
    return current or obj_id(inv.get("subscription"))


def invoice_subscription_metadata(inv: dict[str, Any]) -> dict[str, Any] | None:
    """The subscription's metadata as copied onto the invoice; None when not copied."""
    current = dig(inv, "parent", "subscription_details", "metadata")
    if current is not None:
        return current
    return dig(inv, "subscription_details", "metadata")


def invoice_payment_intent(inv: dict[str, Any]) -> str | None:
    """The invoice's payment intent, named on the invoice only in older layouts."""
    return obj_id(inv.get("payment_intent"))
