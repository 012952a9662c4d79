"""Creating Checkout Sessions, validated the way Stripe validates them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import expiry
from . import objects as o
from .errors import StripeError, invalid, missing, no_such
from .forms import as_dict, as_int, as_list, metadata, reject_unknown, required
from .money import MAXIMUM, SUPPORTED, THREE_DECIMAL, format_amount, minimum
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

INTERVALS = ("day", "week", "month", "year")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Parameters the app may send; the emulator accepts and ignores those it does not model.
# No `payment_method_types`: removed from Checkout Session create in 2026-09-30.endive
# (docs.stripe.com/changelog/endive/2026-09-30/remove-payment-method-types-checkout-sessions;
# stripe-python v16's SessionCreateParams has only allowed_/excluded_payment_method_types), so
# Stripe answers "Received unknown parameter" as for any other unknown name.
ALLOWED = {
    "mode",
    "line_items",
    "success_url",
    "cancel_url",
    "client_reference_id",
    "metadata",
    "customer",
    "customer_email",
    "payment_intent_data",
    "subscription_data",
    "expires_at",
    "currency",
    "locale",
    "submit_type",
    "allow_promotion_codes",
    "billing_address_collection",
    "customer_creation",
    "custom_text",
    "consent_collection",
    "automatic_tax",
    "tax_id_collection",
    "phone_number_collection",
    "ui_mode",
    "invoice_creation",
    "payment_method_collection",
    "customer_update",
    "after_expiration",
    "saved_payment_method_options",
    "discounts",
    "custom_fields",
    "return_url",
}


# The spec's `ui_mode` enum in our version (since 2026-03-25.dahlia, which removed `hosted`,
# `embedded` and `custom`: docs.stripe.com/changelog/dahlia/2026-03-25/
# updates-available-checkout-session-ui-modes; stripe-python v16 SessionCreateParams.ui_mode).
UI_MODES = ("elements", "embedded_page", "form", "hosted_page")


def _ui_mode(params: dict[str, Any]) -> str:
    mode = params.get("ui_mode") or "hosted_page"  # Stripe's default
    if mode not in UI_MODES:
        raise invalid("ui_mode", f"Invalid ui_mode: must be one of {', '.join(UI_MODES)}")
    if mode != "hosted_page":
        raise invalid("ui_mode", "The Stripe emulator serves only the hosted page (hosted_page).")
    return mode


def create_session(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """Validate parameters, then store and return a new open Checkout Session."""
    reject_unknown(params, ALLOWED)
    ui_mode = _ui_mode(params)
    mode = required(params, "mode")
    if mode not in ("payment", "subscription"):
        message = "Invalid mode: must be one of payment or subscription"
        if mode == "setup":
            message = "The Stripe emulator does not support `setup` mode."
        raise invalid("mode", message)
    success_url = _url(params, "success_url", needed=True)
    cancel_url = _url(params, "cancel_url", needed=False)
    customer_id, email = _customer(tx, params)
    items = as_list(params.get("line_items"), "line_items")
    if not items:
        raise missing("line_items")
    prices = [_price(tx, item, i, mode) for i, item in enumerate(items)]
    currencies = {p["currency"] for p, _, _ in prices}
    if len(currencies) > 1:
        raise invalid("line_items", "Checkout does not support multiple currencies.")
    currency = currencies.pop()
    recurring = [p for p, _, _ in prices if p["recurring"]]
    if mode == "subscription" and not recurring:
        raise invalid(
            "line_items",
            "You must provide at least one recurring price in `subscription` mode when using "
            "prices.",
        )
    if mode == "subscription" and len(prices) > 1:
        raise invalid("line_items", "The Stripe emulator supports one line item per subscription.")
    total = sum(p["unit_amount"] * qty for p, qty, _ in prices)
    _check_total(emu, items, total, currency)
    pi_data = as_dict(params.get("payment_intent_data"), "payment_intent_data")
    sub_data = as_dict(params.get("subscription_data"), "subscription_data")
    if pi_data and mode != "payment":
        raise invalid(
            "payment_intent_data", "You can only pass `payment_intent_data` in `payment` mode."
        )
    if sub_data and mode != "subscription":
        raise invalid(
            "subscription_data", "You can only pass `subscription_data` in `subscription` mode."
        )
    creation = params.get("customer_creation") or None
    if creation is not None and (mode != "payment" or creation not in ("always", "if_required")):
        raise invalid(
            "customer_creation",
            "`customer_creation` can only be `always` or `if_required`, in `payment` mode.",
        )
    if params.get("submit_type") and mode != "payment":
        raise invalid("submit_type", "`submit_type` can only be used in `payment` mode.")
    reference = params.get("client_reference_id") or None
    if reference is not None and len(reference) > 200:
        raise invalid("client_reference_id", "client_reference_id can be at most 200 characters.")
    created = o.now()
    expires_at = expiry.expires_at(params.get("expires_at"), created)
    session_id = "cs_test_" + o.new_id("", 58)
    for price_obj, _, product_obj in prices:
        if "object" in product_obj:
            tx.put(product_obj)
        tx.put(price_obj)
    line_items = [o.line_item(session_id, p, prod["name"], qty) for p, qty, prod in prices]
    session = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": None,
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": cancel_url,
        "client_reference_id": reference,
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": dict.fromkeys(
            ("after_submit", "shipping_address", "submit", "terms_of_service_acceptance")
        ),
        "customer": customer_id,
        "customer_account": None,
        "customer_creation": creation
        or ("if_required" if mode == "payment" and not customer_id else None),
        "customer_details": None,
        "customer_email": email,
        "discounts": [],
        "expires_at": expires_at,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {"enabled": False, "invoice_data": None} if mode == "payment" else None,
        "livemode": False,
        "locale": params.get("locale") or None,
        "managed_payments": {"enabled": False},
        "metadata": metadata(params.get("metadata")),
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always" if mode == "subscription" else None,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": params.get("submit_type") or None,
        "subscription": None,
        # Stored verbatim, `{CHECKOUT_SESSION_ID}` included; substituted only on redirect.
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": ui_mode,
        "url": f"{emu.site_url}/_emulator/checkout/{session_id}",
        "wallet_options": None,
        o.PRIVATE + "line_items": {
            **o.stripe_list(line_items, f"/v1/checkout/sessions/{session_id}/line_items"),
        },
        o.PRIVATE + "payment_intent_metadata": metadata(
            pi_data.get("metadata"), "payment_intent_data[metadata]"
        ),
        o.PRIVATE + "subscription_metadata": metadata(
            sub_data.get("metadata"), "subscription_data[metadata]"
        ),
    }
    return tx.put(session)


def _url(params: dict[str, Any], name: str, *, needed: bool) -> str | None:
    value = params.get(name)
    if not value:
        if needed:
            raise missing(name)
        return None
    # `{CHECKOUT_SESSION_ID}` is not a valid URL character sequence; check what surrounds it.
    parts = urlsplit(str(value).replace("{CHECKOUT_SESSION_ID}", "x"))
    if parts.scheme not in ("http", "https") or not parts.netloc or len(str(value)) > 5000:
        raise invalid(name, "Not a valid URL", "url_invalid")
    return str(value)


def _customer(tx: Tx, params: dict[str, Any]) -> tuple[str | None, str | None]:
    customer_id = params.get("customer") or None
    email = params.get("customer_email") or None
    if customer_id and email:
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if customer_id and tx.get(customer_id, "customer") is None:
        raise no_such("customer", customer_id, param="customer")
    if email and not _EMAIL.match(email):
        raise invalid("customer_email", f"Invalid email address: {email}", "email_invalid")
    return customer_id, email


def _price(tx: Tx, item: Any, i: int, mode: str) -> tuple[dict[str, Any], int, dict[str, Any]]:
    prefix = f"line_items[{i}]"
    item = as_dict(item, prefix)
    quantity = as_int(required(item, "quantity", f"{prefix}["), f"{prefix}[quantity]", minimum=1)
    if item.get("price"):
        price_obj = tx.get(item["price"], "price")
        if price_obj is None:
            raise no_such("price", item["price"], param=f"{prefix}[price]")
        product_obj = tx.get(price_obj["product"], "product") or {"name": price_obj["product"]}
        _check_mode(price_obj, prefix + "[price]", mode)
        return price_obj, quantity, product_obj
    data = as_dict(required(item, "price_data", f"{prefix}["), f"{prefix}[price_data]")
    pd = f"{prefix}[price_data]"
    currency = str(required(data, "currency", f"{pd}[")).lower()
    if currency not in SUPPORTED:
        raise invalid(
            f"{pd}[currency]",
            f"Invalid currency: {currency}. Stripe emulator supports: "
            f"{', '.join(sorted(SUPPORTED))}.",
            "invalid_currency",
        )
    if "unit_amount" not in data or data["unit_amount"] == "":
        raise missing(f"{pd}[unit_amount]")
    unit_amount = as_int(data["unit_amount"], f"{pd}[unit_amount]", minimum=0)
    product_data = as_dict(data.get("product_data"), f"{pd}[product_data]")
    if data.get("product"):
        product_obj = tx.get(data["product"], "product")
        if product_obj is None:
            raise no_such("product", data["product"], param=f"{pd}[product]")
    else:
        if not product_data:
            raise missing(f"{pd}[product_data]")
        name = required(product_data, "name", f"{pd}[product_data][")
        product_obj = o.product(str(name), product_data.get("description") or None)
    recurring = None
    if data.get("recurring"):
        rec = as_dict(data["recurring"], f"{pd}[recurring]")
        interval = required(rec, "interval", f"{pd}[recurring][")
        if interval not in INTERVALS:
            raise invalid(f"{pd}[recurring][interval]", f"Invalid interval: {interval}")
        count = as_int(rec.get("interval_count", 1), f"{pd}[recurring][interval_count]", minimum=1)
        recurring = {"interval": interval, "interval_count": count}
    price_obj = o.price(product_obj["id"], currency, unit_amount, recurring)
    _check_mode(price_obj, f"{pd}[recurring]", mode)
    return price_obj, quantity, product_obj


def _amount_param(items: list[Any]) -> str:
    """The parameter an amount error names: the one line item's unit amount when there is one."""
    if len(items) == 1 and isinstance(items[0], dict) and items[0].get("price_data"):
        return "line_items[0][price_data][unit_amount]"
    return "line_items"


def _check_total(emu: Emulator, items: list[Any], total: int, currency: str) -> None:
    """Stripe's limits on what one charge may be (docs.stripe.com/currencies)."""
    param = _amount_param(items)
    least = minimum(currency, emu.settlement_currency)
    if total < least:
        # The figure is the presentment currency's, after conversion from the settlement one.
        raise invalid(
            param,
            "The Checkout Session's total amount due must add up to at least "
            f"{format_amount(least, currency)} {currency}",
            "amount_too_small",
        )
    if total > MAXIMUM:
        raise invalid(
            param,
            f"The Checkout Session's total amount due must be no more than "
            f"{format_amount(MAXIMUM, currency)} {currency}",
            "amount_too_large",
        )
    if currency in THREE_DECIMAL and total % 10:
        # "these API calls require the least-significant (last) digit to be 0".
        raise invalid(
            param,
            f"Amounts in {currency} must be rounded to the nearest ten (the last digit must be 0).",
            "parameter_invalid_integer",
        )


def _check_mode(price_obj: dict[str, Any], param: str, mode: str) -> None:
    if mode == "payment" and price_obj["recurring"]:
        raise invalid(
            param,
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
        )
