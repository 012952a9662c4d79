"""The same Stripe objects in the layouts of older API versions (endpoints created before 2025).

Each function takes an object in the current layout (World's, from Stripe's fixtures) and
returns the same facts as an endpoint on an older version would receive them.
"""

from __future__ import annotations

import copy
from typing import Any

OLD_API_VERSION = "2024-06-20"  # an endpoint created before basil (2025-03-31)


def old_subscription(sub: dict[str, Any], *, plan_only: bool = False) -> dict[str, Any]:
    """Period at the top; items carry `plan` (and, unless plan_only, `price` too)."""
    old = copy.deepcopy(sub)
    item = old["items"]["data"][0]
    old["current_period_start"] = item.pop("current_period_start", None)
    old["current_period_end"] = item.pop("current_period_end", None)
    price = item["price"]
    item["plan"] = {
        "id": price["id"],
        "object": "plan",
        "active": True,
        "amount": price["unit_amount"],
        "currency": price["currency"],
        "interval": price["recurring"]["interval"],
        "interval_count": price["recurring"]["interval_count"],
        "product": price["product"],
        "usage_type": "licensed",
    }
    if plan_only:  # before 2020 items had no `price`
        del item["price"]
    old.pop("billing_mode", None)
    return old


def old_invoice(
    inv: dict[str, Any],
    *,
    payment_intent: str | None = None,
    charge: str | None = None,
    with_metadata: bool = True,
) -> dict[str, Any]:
    """Subscription, payment intent and charge at the top; no `parent`.

    `with_metadata` gives the 2023-2024 `subscription_details.metadata`; without it, the
    invoice carries no copy of the subscription's metadata at all (before 2023).
    """
    old = copy.deepcopy(inv)
    details = (old.pop("parent", None) or {}).get("subscription_details") or {}
    old["subscription"] = details.get("subscription")
    old["payment_intent"] = payment_intent
    old["charge"] = charge
    old.pop("payments", None)
    if with_metadata:
        old["subscription_details"] = {"metadata": details.get("metadata")}
    return old


def old_charge(charge: dict[str, Any], refunds: list[dict[str, Any]] | None = None):
    """The charge with its `refunds` list inline (dropped from payloads in 2022-11-15)."""
    old = copy.deepcopy(charge)
    old["refunds"] = {
        "object": "list",
        "data": copy.deepcopy(refunds or []),
        "has_more": False,
        "url": f"/v1/charges/{charge['id']}/refunds",
    }
    return old
