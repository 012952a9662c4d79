"""Refunds, full and partial, and how they end: succeeded, failed or canceled.

Stripe sends `refund.created`, `refund.updated` and `charge.refunded`; the charge in them has
no `refunds` list since API 2022-11-15 (it is kept aside for `expand[]=refunds`). A card
refund is `succeeded` at once and `refund.updated` follows when the acquirer reference
arrives. The refund test cards of docs.stripe.com/testing settle "some time later" (here:
when the emulator's clock moves): 4000000000007726 pending -> succeeded, 4000000000005126
succeeded -> failed. A failed refund gives the money back to the charge (`refund.failed`).
Statuses: pending, requires_action, succeeded, failed, canceled (API reference, Refund).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import balance
from . import objects as o
from . import payment_objects as p
from .errors import EmulatorError, StripeError, invalid, no_such
from .forms import as_int, metadata, reject_unknown
from .money import format_amount
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
FAILURE_REASONS = (
    "lost_or_stolen_card",
    "expired_or_canceled_card",
    "charge_for_pending_refund_disputed",
    "insufficient_funds",
    "declined",
    "merchant_request",
    "unknown",
)
SETTLES = o.PRIVATE + "settles"  # (status it settles to, when) for the refund test cards
SETTLE_AFTER = 60
# A card refund can be canceled from the Dashboard for a short while; 30 minutes in test mode
# (support.stripe.com/questions/canceling-a-refund; docs.stripe.com/testing).
CANCEL_WINDOW = 30 * 60
DISPUTE_KEY = o.PRIVATE + "dispute"


def create_refund(
    emu: Emulator,
    tx: Tx,
    charge_id: str,
    amount: int | None,
    *,
    reason: str | None = None,
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Refund (part of) a charge; raise StripeError where Stripe refuses."""
    ch = tx.get(charge_id, "charge")
    if ch is None:
        raise no_such("charge", charge_id, param="charge")
    if ch["status"] != "succeeded":
        raise StripeError(
            f"Charge {charge_id} did not succeed; it cannot be refunded.", param="charge"
        )
    dispute = tx.get(ch.get(DISPUTE_KEY) or "", "dispute")
    if dispute is not None and not dispute["is_charge_refundable"]:
        raise StripeError(
            f"Charge {charge_id} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    remaining = ch["amount"] - ch["amount_refunded"]
    if remaining <= 0:
        raise StripeError(
            f"Charge {charge_id} has already been refunded.", code="charge_already_refunded"
        )
    if amount is None:
        amount = remaining
    if amount <= 0:
        raise invalid(
            "amount", "Refund amount must be greater than zero.", "parameter_invalid_integer"
        )
    if amount > remaining:
        cur = ch["currency"]
        raise StripeError(
            f"Refund amount ({format_amount(amount, cur)}) is greater than unrefunded amount on "
            f"charge ({format_amount(remaining, cur)})",
            param="amount",
            code="amount_too_large",
        )
    behaviour = ch.get(p.REFUND_BEHAVIOUR)
    ref = p.refund(ch, amount, reason, behaviour[0] if behaviour else "succeeded")
    ref["metadata"] = meta or {}
    ref["balance_transaction"] = balance.for_refund(emu, tx, ref)
    if behaviour:
        ref[SETTLES] = (behaviour[1], ref["created"] + SETTLE_AFTER)
    tx.put(ref)
    emu.emit(tx, "refund.created", ref)
    _move_money(emu, tx, ch, ref, +amount, event="charge.refunded")
    if ref["status"] == "succeeded":
        _reference_arrives(emu, tx, ref)
    return ref


def _move_money(
    emu: Emulator, tx: Tx, ch: dict[str, Any], ref: dict[str, Any], delta: int, event: str | None
) -> None:
    """Change the charge's refunded total (and its kept-aside refunds list)."""
    previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
    ch["amount_refunded"] += delta
    ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    refunds = [r for r in ch[p.REFUNDS]["data"] if r["id"] != ref["id"]]
    ch[p.REFUNDS]["data"] = [o.public(ref), *refunds]
    ch[p.REFUNDS]["total_count"] = len(ch[p.REFUNDS]["data"])
    tx.put(ch)
    if event is not None:
        changed = {k: v for k, v in previous.items() if ch[k] != v}
        emu.emit(tx, event, ch, previous_attributes=changed)


def _reference_arrives(emu: Emulator, tx: Tx, ref: dict[str, Any]) -> None:
    # The acquirer reference number (ARN) is what a customer's bank traces a refund by.
    before = copy.deepcopy(ref["destination_details"])
    ref["destination_details"]["card"].update(
        reference=o.new_id("", 23).upper(), reference_status="available"
    )
    _changed(emu, tx, ref, {"destination_details": before})


def _changed(emu: Emulator, tx: Tx, ref: dict[str, Any], previous: dict[str, Any]) -> None:
    tx.put(ref)
    emu.emit(tx, "refund.updated", ref, previous_attributes=previous)


def _refund(tx: Tx, refund_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ref = tx.get(refund_id, "refund")
    if ref is None:
        raise EmulatorError(f"No such refund: {refund_id}")
    ch = tx.get(ref["charge"], "charge")
    assert ch is not None
    return ref, ch


def fail(emu: Emulator, tx: Tx, refund_id: str, reason: str) -> dict[str, Any]:
    """The bank could not return the money: the refund fails and the charge gets it back."""
    if reason not in FAILURE_REASONS:
        raise EmulatorError(f"reason must be one of {', '.join(FAILURE_REASONS)}.")
    ref, ch = _refund(tx, refund_id)
    if ref["status"] not in ("pending", "succeeded", "requires_action"):
        raise EmulatorError(f"Refund {refund_id} is {ref['status']}; it cannot fail.")
    return _undo(emu, tx, ref, ch, "failed", reason)


def cancel(emu: Emulator, tx: Tx, refund_id: str) -> dict[str, Any]:
    """Cancel a refund: one awaiting customer action, or a card refund still in its window."""
    ref, ch = _refund(tx, refund_id)
    in_window = o.now() < ref["created"] + CANCEL_WINDOW
    if not (
        ref["status"] == "requires_action"
        or (ref["status"] in ("pending", "succeeded") and in_window)
    ):
        raise EmulatorError(
            f"Refund {refund_id} is {ref['status']}"
            + ("" if in_window else " and past its cancellation window")
            + "; it cannot be canceled."
        )
    return _undo(emu, tx, ref, ch, "canceled", "merchant_request")


def _undo(
    emu: Emulator, tx: Tx, ref: dict[str, Any], ch: dict[str, Any], status: str, reason: str
) -> dict[str, Any]:
    previous = {"status": ref["status"]}
    ref.pop(SETTLES, None)
    ref.pop("pending_reason", None)
    # The money comes back to the balance: a `refund_failure` transaction (a canceled refund
    # reverses its own the same way).
    failure_txn = balance.for_refund(emu, tx, ref, failed=True)
    ref.update(status=status, failure_reason=reason, failure_balance_transaction=failure_txn)
    _changed(emu, tx, ref, previous)
    if status == "failed":
        emu.emit(tx, "refund.failed", ref)
    _move_money(emu, tx, ch, ref, -ref["amount"], event=None)
    return ref


def settle_due(emu: Emulator, tx: Tx) -> list[str]:
    """Move the refund test cards' refunds to their final status once their time has come."""
    done = []
    for ref in tx.list("refund"):
        settles = ref.get(SETTLES)
        if not settles or o.now() < settles[1]:
            continue
        done.append(ref["id"])
        if settles[0] == "failed":
            fail(emu, tx, ref["id"], "expired_or_canceled_card")
            continue
        ref.pop(SETTLES)
        ref.pop("pending_reason", None)
        ref["status"] = settles[0]
        ch = tx.get(ref["charge"], "charge")
        assert ch is not None
        _move_money(emu, tx, ch, ref, 0, event=None)
        _changed(emu, tx, ref, {"status": "pending"})
        _reference_arrives(emu, tx, ref)
    return done


def api_create_refund(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/refunds with `charge` or `payment_intent`, optional `amount` and `reason`."""
    reject_unknown(params, {"charge", "payment_intent", "amount", "reason", "metadata"})
    charge_id = params.get("charge") or None
    pi_id = params.get("payment_intent") or None
    if charge_id and pi_id:
        raise StripeError(
            "You can only specify one of these parameters: charge, payment_intent.",
            param="payment_intent",
        )
    if pi_id:
        pi = tx.get(pi_id, "payment_intent")
        if pi is None:
            raise no_such("payment_intent", pi_id, param="payment_intent")
        if pi["status"] != "succeeded" or not pi["latest_charge"]:
            raise StripeError(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge_id = pi["latest_charge"]
    if not charge_id:
        raise StripeError(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
        )
    amount = None
    if params.get("amount") not in (None, ""):
        amount = as_int(params["amount"], "amount", minimum=1)
    reason = params.get("reason") or None
    if reason is not None and reason not in REASONS:
        raise invalid("reason", f"Invalid reason: must be one of {', '.join(REASONS)}")
    return create_refund(
        emu, tx, charge_id, amount, reason=reason, meta=metadata(params.get("metadata"))
    )
