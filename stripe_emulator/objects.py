"""Builders of Stripe objects in the current API layout (see shared/stripe-fixtures)."""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
import string
import time
from typing import Any

from . import clock
from .money import format_amount

_ALPHABET = string.ascii_letters + string.digits

# Keys starting with this prefix are the emulator's own bookkeeping; never sent out.
PRIVATE = "__"


def new_id(prefix: str, length: int = 24) -> str:
    """Return a random Stripe-style id such as `cus_Q7xq...`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def now() -> int:
    """Return the emulator's current Unix time in whole seconds, as Stripe timestamps are."""
    at = clock.pinned()
    return at if at is not None else int(time.time()) + clock.offset()


def public(obj: Any) -> Any:
    """Return a deep copy without the emulator's private keys."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith(PRIVATE)}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    """Advance a timestamp by a billing interval, clamping the day like Stripe does."""
    when = dt.datetime.fromtimestamp(ts, dt.UTC)
    if interval in ("day", "week"):
        return ts + count * (86400 if interval == "day" else 7 * 86400)
    months = count * (12 if interval == "year" else 1)
    month_index = when.month - 1 + months
    year, month = when.year + month_index // 12, month_index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())


def address() -> dict[str, None]:
    """An empty address hash."""
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


def stripe_list(data: list[Any], url: str, has_more: bool = False) -> dict[str, Any]:
    """Wrap items in Stripe's list object."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def customer(email: str | None, name: str | None, **fields: Any) -> dict[str, Any]:
    """A new customer."""
    obj = {
        "id": new_id("cus_", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    obj.update(fields)
    return obj


def product(name: str, description: str | None = None) -> dict[str, Any]:
    """A product made from a Checkout line item's `product_data`."""
    return {
        "id": new_id("prod_", 14),
        "object": "product",
        "active": False,  # inline product_data makes an archived product, as on Stripe
        "created": now(),
        "default_price": None,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": now(),
        "url": None,
    }


def price(
    product_id: str, currency: str, unit_amount: int, recurring: dict[str, Any] | None
) -> dict[str, Any]:
    """A price made from a Checkout line item's `price_data`."""
    return {
        "id": new_id("price_"),
        "object": "price",
        "active": False,
        "billing_scheme": "per_unit",
        "created": now(),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product_id,
        "recurring": None
        if recurring is None
        else {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", 1),
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time" if recurring is None else "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan(price_obj: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` view of a recurring price, still present on subscription items."""
    recurring = price_obj["recurring"] or {}
    return {
        "id": price_obj["id"],
        "object": "plan",
        "active": price_obj["active"],
        "amount": price_obj["unit_amount"],
        "amount_decimal": price_obj["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price_obj["created"],
        "currency": price_obj["currency"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count", 1),
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "product": price_obj["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def line_item(session_id: str, price_obj: dict[str, Any], name: str, qty: int) -> dict[str, Any]:
    """A Checkout Session line item (`expand[]=line_items`)."""
    amount = price_obj["unit_amount"] * qty
    return {
        "id": new_id("li_"),
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price_obj["currency"],
        "description": name,
        "metadata": {},
        "price": price_obj,
        "quantity": qty,
    }


def describe_price(price_obj: dict[str, Any]) -> str:
    """Say a price as a person reads it: "$8.00 / month", "€10.00"."""
    text = format_amount(price_obj["unit_amount"], price_obj["currency"])
    recurring = price_obj.get("recurring")
    if recurring:
        count = recurring.get("interval_count", 1)
        every = recurring["interval"] if count == 1 else f"{count} {recurring['interval']}s"
        text += f" / {every}"
    return text


def billing_portal_session(
    customer_id: str, return_url: str | None, site_url: str
) -> dict[str, Any]:
    """A Billing Portal session whose url opens the emulator's portal page."""
    bps_id = new_id("bps_")
    return {
        "id": bps_id,
        "object": "billing_portal.session",
        "configuration": "bpc_emulator",
        "created": now(),
        "customer": customer_id,
        "customer_account": None,
        "flow": None,
        "livemode": False,
        "locale": None,
        "on_behalf_of": None,
        "return_url": return_url,
        "url": f"{site_url}/_emulator/portal/{bps_id}",
    }
