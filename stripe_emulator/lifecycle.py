"""A subscription's life after Checkout: cancellation now or at period end, and resuming."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import objects as o
from .errors import EmulatorError, StripeError, no_such
from .forms import as_bool, merge_metadata, reject_unknown
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

TERMINAL = ("canceled", "incomplete_expired")


def get_subscription(tx: Tx, sub_id: str) -> dict[str, Any]:
    """Return a stored subscription or raise EmulatorError."""
    sub = tx.get(sub_id, "subscription")
    if sub is None:
        raise EmulatorError(f"No such subscription: {sub_id}")
    return sub


def updated(
    emu: Emulator, tx: Tx, sub: dict[str, Any], before: dict[str, Any]
) -> dict[str, Any] | None:
    """Store a changed subscription and emit `customer.subscription.updated` if it changed."""
    # Stripe's previous_attributes: the old values of exactly the top-level keys that changed.
    previous = {k: v for k, v in before.items() if sub.get(k) != v and not k.startswith(o.PRIVATE)}
    tx.put(sub)
    if not previous:
        return None
    return emu.emit(tx, "customer.subscription.updated", sub, previous_attributes=previous)


def end(emu: Emulator, tx: Tx, sub: dict[str, Any], reason: str) -> dict[str, Any]:
    """End a subscription now: `customer.subscription.deleted`."""
    ts = o.now()
    sub.update(status="canceled", ended_at=ts, canceled_at=sub["canceled_at"] or ts)
    sub["cancellation_details"] = {**sub["cancellation_details"], "reason": reason}
    tx.put(sub)
    emu.emit(tx, "customer.subscription.deleted", sub)
    return sub


def cancel(emu: Emulator, sub_id: str, *, at_period_end: bool) -> dict[str, Any]:
    """Cancel now (`customer.subscription.deleted`) or at period end (`...updated`)."""
    with emu.transaction() as tx:
        sub = get_subscription(tx, sub_id)
        if sub["status"] in TERMINAL:
            raise EmulatorError(f"Subscription {sub_id} is already {sub['status']}.")
        if not at_period_end:
            sub["canceled_at"] = o.now()
            return end(emu, tx, sub, "cancellation_requested")
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
    updated(emu, tx, sub, before)
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
    return end(emu, tx, sub, "cancellation_requested")
