"""A subscription's life after Checkout: renewals, failed payments, cancellation."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Literal

from . import objects as o
from .errors import EmulatorError, StripeError, no_such
from .forms import as_bool, merge_metadata, reject_unknown
from .paying import new_invoice, pay_invoice
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

TERMINAL = ("canceled", "incomplete_expired")
# What a renewal failure looks like on the invoice's charge: a generic issuer decline.
RENEWAL_DECLINE = ("generic_decline", "card_declined", "Your card was declined.")

FinalStatus = Literal["unpaid", "canceled"]


def get_subscription(tx: Tx, sub_id: str) -> dict[str, Any]:
    """Return a stored subscription or raise EmulatorError."""
    sub = tx.get(sub_id, "subscription")
    if sub is None:
        raise EmulatorError(f"No such subscription: {sub_id}")
    return sub


def _updated(
    emu: Emulator, tx: Tx, sub: dict[str, Any], before: dict[str, Any]
) -> dict[str, Any] | None:
    # Stripe's previous_attributes: the old values of exactly the top-level keys that changed.
    previous = {k: v for k, v in before.items() if sub.get(k) != v and not k.startswith(o.PRIVATE)}
    tx.put(sub)
    if not previous:
        return None
    return emu.emit(tx, "customer.subscription.updated", sub, previous_attributes=previous)


def _end(emu: Emulator, tx: Tx, sub: dict[str, Any], reason: str) -> dict[str, Any]:
    ts = o.now()
    sub.update(status="canceled", ended_at=ts, canceled_at=sub["canceled_at"] or ts)
    sub["cancellation_details"] = {**sub["cancellation_details"], "reason": reason}
    tx.put(sub)
    emu.emit(tx, "customer.subscription.deleted", sub)
    return sub


def renew(
    emu: Emulator, sub_id: str, *, fail: bool = False, final_status: FinalStatus = "unpaid"
) -> dict[str, Any]:
    """Move a subscription to its next period and charge it (or fail; see Emulator.renew)."""
    with emu.transaction() as tx:
        sub = get_subscription(tx, sub_id)
        if sub["status"] in TERMINAL:
            raise EmulatorError(f"Subscription {sub_id} is {sub['status']}; it cannot renew.")
        if sub["cancel_at_period_end"]:
            # The period ends with the cancellation taking effect, not with a new invoice.
            return _end(emu, tx, sub, "cancellation_requested")
        cust = tx.get(sub["customer"], "customer")
        if cust is None:
            raise EmulatorError(f"Customer {sub['customer']} of {sub_id} is missing.")
        latest = tx.get(sub["latest_invoice"] or "", "invoice")
        if sub["status"] in ("past_due", "unpaid") and latest and latest["status"] == "open":
            return _retry(emu, tx, sub, cust, latest, fail, final_status)
        before = copy.deepcopy(sub)
        item = sub["items"]["data"][0]
        old = (item["current_period_start"], item["current_period_end"])
        recurring = item["price"]["recurring"]
        item["current_period_start"] = old[1]
        item["current_period_end"] = o.add_interval(
            old[1], recurring["interval"], recurring["interval_count"]
        )
        inv = new_invoice(tx, sub, cust, "subscription_cycle", old)
        pay_invoice(emu, tx, inv, sub, cust, RENEWAL_DECLINE if fail else None)
        sub["latest_invoice"] = inv["id"]
        if not fail:
            _updated(emu, tx, sub, before)
            emu.emit(tx, "invoice.paid", inv)
            emu.emit(tx, "invoice_payment.paid", inv["payments"]["data"][0])
            return sub
        emu.emit(tx, "invoice.payment_failed", inv)
        sub["status"] = "past_due"
        _updated(emu, tx, sub, before)
        return sub


def _retry(
    emu: Emulator,
    tx: Tx,
    sub: dict[str, Any],
    cust: dict[str, Any],
    inv: dict[str, Any],
    fail: bool,
    final_status: FinalStatus,
) -> dict[str, Any]:
    # A retry of the open invoice: success reactivates, a second failure ends the grace period.
    before = copy.deepcopy(sub)
    pay_invoice(emu, tx, inv, sub, cust, RENEWAL_DECLINE if fail else None)
    if not fail:
        emu.emit(tx, "invoice.paid", inv)
        emu.emit(tx, "invoice_payment.paid", inv["payments"]["data"][0])
        sub["status"] = "active"
        _updated(emu, tx, sub, before)
        return sub
    emu.emit(tx, "invoice.payment_failed", inv)
    if sub["status"] == "unpaid":
        tx.put(sub)
        return sub
    if final_status == "canceled":
        inv["next_payment_attempt"] = None
        tx.put(inv)
        return _end(emu, tx, sub, "payment_failed")
    sub["status"] = "unpaid"
    _updated(emu, tx, sub, before)
    return sub


def advance_past_period_end(emu: Emulator, sub_id: str) -> dict[str, Any]:
    """Let the current period end: a cancelling subscription ends, any other one renews."""
    with emu.transaction() as tx:
        sub = get_subscription(tx, sub_id)
        if sub["status"] in TERMINAL:
            raise EmulatorError(f"Subscription {sub_id} is already {sub['status']}.")
        if sub["cancel_at_period_end"]:
            return _end(emu, tx, sub, "cancellation_requested")
    return renew(emu, sub_id)


def cancel(emu: Emulator, sub_id: str, *, at_period_end: bool) -> dict[str, Any]:
    """Cancel now (`customer.subscription.deleted`) or at period end (`...updated`)."""
    with emu.transaction() as tx:
        sub = get_subscription(tx, sub_id)
        if sub["status"] in TERMINAL:
            raise EmulatorError(f"Subscription {sub_id} is already {sub['status']}.")
        if not at_period_end:
            sub["canceled_at"] = o.now()
            return _end(emu, tx, sub, "cancellation_requested")
        return set_cancel_at_period_end(emu, tx, sub, True)


def resume(emu: Emulator, sub_id: str) -> dict[str, Any]:
    """Undo a cancellation at period end."""
    with emu.transaction() as tx:
        sub = get_subscription(tx, sub_id)
        if sub["status"] in TERMINAL:
            raise EmulatorError(f"Subscription {sub_id} is {sub['status']}; it cannot resume.")
        return set_cancel_at_period_end(emu, tx, sub, False)


def set_cancel_at_period_end(
    emu: Emulator, tx: Tx, sub: dict[str, Any], value: bool, *, metadata: Any = None
) -> dict[str, Any]:
    """Change cancel_at_period_end (and metadata) and emit one update with what changed."""
    before = copy.deepcopy(sub)
    if value != sub["cancel_at_period_end"]:
        period_end = sub["items"]["data"][0]["current_period_end"]
        sub.update(
            cancel_at_period_end=value,
            cancel_at=period_end if value else None,
            canceled_at=o.now() if value else None,
            cancellation_details={
                "comment": None,
                "feedback": None,
                "reason": "cancellation_requested" if value else None,
            },
        )
    if metadata is not None:
        sub["metadata"] = merge_metadata(sub["metadata"], metadata)
    _updated(emu, tx, sub, before)
    return sub


def api_update(emu: Emulator, tx: Tx, sub_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/subscriptions/{id}: cancel_at_period_end and metadata."""
    reject_unknown(
        params,
        {
            "cancel_at_period_end",
            "metadata",
            "proration_behavior",
            "cancellation_details",
            "description",
        },
    )
    sub = tx.get(sub_id, "subscription")
    if sub is None:
        raise no_such("subscription", sub_id)
    if sub["status"] in TERMINAL and params.get("cancel_at_period_end") is not None:
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata.",
            param="cancel_at_period_end",
        )
    value = sub["cancel_at_period_end"]
    if params.get("cancel_at_period_end") not in (None, ""):
        value = as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
    return set_cancel_at_period_end(emu, tx, sub, value, metadata=params.get("metadata"))


def api_cancel(emu: Emulator, tx: Tx, sub_id: str) -> dict[str, Any]:
    """DELETE /v1/subscriptions/{id}: cancel immediately."""
    sub = tx.get(sub_id, "subscription")
    if sub is None:
        raise no_such("subscription", sub_id)
    if sub["status"] in TERMINAL:
        raise StripeError(
            f"This subscription has already been canceled: {sub_id}", code="resource_missing"
        )
    sub["canceled_at"] = o.now()
    return _end(emu, tx, sub, "cancellation_requested")
