"""The emulated REST API, part two: subscriptions, invoices, charges, payments and refunds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import invalid
from .lifecycle import api_cancel, api_update
from .listing import filter_created, filter_eq, paginate
from .refunds import api_create_refund
from .routing import fetch
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

SUBSCRIPTION_STATUSES = (
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
    "all",
    "ended",
)


# --- subscriptions, invoices, charges, payment intents, refunds ------------------------


def sub_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], sid: str) -> dict[str, Any]:
    """Retrieve a subscription."""
    return fetch(tx, "subscription", sid)


def sub_update(emu: Emulator, tx: Tx, params: dict[str, Any], sid: str) -> dict[str, Any]:
    """Update cancel_at_period_end or metadata."""
    return api_update(emu, tx, sid, params)


def sub_cancel(emu: Emulator, tx: Tx, params: dict[str, Any], sid: str) -> dict[str, Any]:
    """Cancel a subscription now."""
    return api_cancel(emu, tx, sid)


def sub_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """List subscriptions; like Stripe, canceled ones only with status=canceled|ended|all."""
    status = params.get("status") or None
    if status is not None and status not in SUBSCRIPTION_STATUSES:
        raise invalid(
            "status", f"Invalid status: must be one of {', '.join(SUBSCRIPTION_STATUSES)}"
        )
    items = filter_eq(filter_created(tx.list("subscription"), params), params, "customer")
    if status is None:
        items = [i for i in items if i["status"] not in ("canceled", "incomplete_expired")]
    elif status == "ended":
        items = [i for i in items if i["status"] in ("canceled", "incomplete_expired")]
    elif status != "all":
        items = [i for i in items if i["status"] == status]
    return paginate(items, params, "/v1/subscriptions")


def invoice_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], iid: str) -> dict[str, Any]:
    """Retrieve an invoice."""
    return fetch(tx, "invoice", iid)


def invoice_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """List invoices, by customer, subscription or status."""
    items = filter_eq(filter_created(tx.list("invoice"), params), params, "customer", "status")
    if params.get("subscription"):
        sub_id = params["subscription"]
        items = [i for i in items if i["parent"]["subscription_details"]["subscription"] == sub_id]
    return paginate(items, params, "/v1/invoices")


def charge_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], cid: str) -> dict[str, Any]:
    """Retrieve a charge."""
    return fetch(tx, "charge", cid)


def charge_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """List charges, by customer or payment_intent."""
    items = filter_created(tx.list("charge"), params)
    return paginate(filter_eq(items, params, "customer", "payment_intent"), params, "/v1/charges")


def pi_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], pid: str) -> dict[str, Any]:
    """Retrieve a PaymentIntent."""
    return fetch(tx, "payment_intent", pid)


def pi_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """List PaymentIntents, by customer."""
    items = filter_eq(filter_created(tx.list("payment_intent"), params), params, "customer")
    return paginate(items, params, "/v1/payment_intents")


def refund_create(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """Create a refund of a charge or PaymentIntent."""
    return api_create_refund(emu, tx, params)


def refund_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], rid: str) -> dict[str, Any]:
    """Retrieve a refund."""
    return fetch(tx, "refund", rid)


def refund_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """List refunds, by charge or payment_intent."""
    items = filter_created(tx.list("refund"), params)
    return paginate(filter_eq(items, params, "charge", "payment_intent"), params, "/v1/refunds")
