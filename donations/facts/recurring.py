"""What a subscription brings in per billing period: every item, net of discounts in effect,
nothing while it is in a trial or its collection is paused. Plain data in, no stripe import.

Shapes (pinned API, stripe-python v16 `Subscription`, `SubscriptionItem`, `Discount`,
`Coupon`; the `subscription` fixture): each item bills `quantity` x its price's
`unit_amount` every `recurring.interval` x `interval_count` (older layouts: `plan`); items
and the subscription carry `discounts`, a list of Discount ids unless expanded ("Use
`expand[]=discounts` to expand each discount"; item discounts apply before the
subscription's); a Discount names its coupon in `source.coupon` (older layouts: `coupon`,
and a single `discount` on the subscription); a Coupon takes `percent_off` or `amount_off`
(in its `currency`) for `duration` once, repeating (until the discount's `end`) or forever.
A trial: `status` trialing, or a `trial_end` after the current period began. Paused
collection: `pause_collection` set (invoices are not collected: no revenue meanwhile).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from donations.facts.payload import dig, first_item, listed, period_end, period_start, ts

MONTHS_PER_YEAR = 12


class UnknownDiscount(Exception):
    """A discount named by id only (not expanded): what it takes off can't be told."""


def _months(interval: str | None, count: int) -> int:
    return count * (MONTHS_PER_YEAR if interval == "year" else 1)


def _item_billing(item: dict[str, Any], sub: dict[str, Any]) -> tuple[Decimal, int]:
    """(amount per period, months per period) of one item, quantity included."""
    price = item.get("price") or {}
    plan = item.get("plan") or sub.get("plan") or {}
    recurring = price.get("recurring") or {}
    amount = price.get("unit_amount")
    if amount is None:
        amount = plan.get("amount")
    quantity = item.get("quantity") or sub.get("quantity") or 1
    interval = recurring.get("interval") or plan.get("interval")
    count = int(recurring.get("interval_count") or plan.get("interval_count") or 1)
    return Decimal(int(amount or 0) * int(quantity)), _months(interval, count)


def _coupon(discount: Any) -> dict[str, Any]:
    """A discount's coupon as an object, or UnknownDiscount when it is only an id."""
    if not isinstance(discount, dict):
        raise UnknownDiscount(str(discount))
    coupon = dig(discount, "source", "coupon") or discount.get("coupon")
    if not isinstance(coupon, dict):
        raise UnknownDiscount(str(discount.get("id")))
    return coupon


def _same_currency(coupon: dict[str, Any], sub: dict[str, Any]) -> bool:
    # An amount_off coupon is in one currency; it takes nothing off a bill in another.
    return (coupon.get("currency") or "").lower() == (sub.get("currency") or "").lower()


def _apply(amount: Decimal, discounts: list[Any], sub: dict[str, Any]) -> Decimal:
    """The amount less each discount still in effect at the next renewal."""
    renews = period_end(sub)
    for discount in discounts:
        coupon = _coupon(discount)
        ends = ts(discount.get("end"))
        if coupon.get("duration") == "once" or (ends is not None and renews and ends <= renews):
            continue  # it took its part of an invoice already paid, not of the next ones
        if coupon.get("percent_off") is not None:
            amount -= amount * Decimal(str(coupon["percent_off"])) / 100
        elif coupon.get("amount_off") is not None and _same_currency(coupon, sub):
            amount -= Decimal(int(coupon["amount_off"]))
        amount = max(amount, Decimal(0))
    return amount


def _subscription_discounts(sub: dict[str, Any]) -> list[Any]:
    """The subscription's discounts: `discounts` (objects or ids), else the older `discount`."""
    single = sub.get("discount")
    found = list(sub.get("discounts") or [])
    if isinstance(single, dict):
        # An id in `discounts` that the older single `discount` spells out is that object.
        found = [single, *(d for d in found if d != single.get("id"))]
    return found


def in_trial(sub: dict[str, Any]) -> bool:
    """True while the subscription is in a trial period."""
    trial_end = ts(sub.get("trial_end"))
    began = period_start(sub)
    return sub.get("status") == "trialing" or bool(trial_end and began and trial_end > began)


def recurring_amount(sub: dict[str, Any]) -> int | None:
    """Minor units per billing period of the first item's interval, all items net of
    discounts; 0 in a trial or with collection paused; None when a discount is not expanded.
    """
    if in_trial(sub) or sub.get("pause_collection"):
        return 0
    items = listed(sub, "items") or [first_item(sub)]
    _, months = _item_billing(items[0], sub)
    total = Decimal(0)
    try:
        for item in items:
            amount, item_months = _item_billing(item, sub)
            # Items of another interval (flexible billing mixes them) count pro rata.
            amount = amount * months / item_months
            total += _apply(amount, list(item.get("discounts") or []), sub)
        total = _apply(total, _subscription_discounts(sub), sub)
    except UnknownDiscount:
        return None
    return int(total.to_integral_value(rounding=ROUND_HALF_UP))
