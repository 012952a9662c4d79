"""Money flowing back: refunds (full and partial) and disputes."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Literal

from . import objects as o
from . import payment_objects as p
from .errors import EmulatorError, StripeError, invalid, no_such
from .forms import as_int, metadata, reject_unknown
from .money import format_amount
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

DISPUTE_KEY = o.PRIVATE + "dispute"
REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def create_refund(
    emu: Emulator,
    tx: Tx,
    charge_id: str,
    amount: int | None,
    *,
    reason: str | None = None,
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Refund (part of) a charge and emit `charge.refunded`; raise StripeError if impossible."""
    ch = tx.get(charge_id, "charge")
    if ch is None:
        raise no_such("charge", charge_id, param="charge")
    if ch["status"] != "succeeded":
        raise StripeError(
            f"Charge {charge_id} did not succeed; it cannot be refunded.", param="charge"
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
    before = copy.deepcopy(ch)
    ref = p.refund(ch, amount, reason, "succeeded")
    ref["metadata"] = meta or {}
    tx.put(ref)
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
    ch[p.REFUNDS]["data"].insert(0, o.public(ref))
    ch[p.REFUNDS]["total_count"] = len(ch[p.REFUNDS]["data"])
    tx.put(ch)
    previous = {k: before[k] for k in ("amount_refunded", "refunded") if before[k] != ch[k]}
    emu.emit(tx, "charge.refunded", ch, previous_attributes=previous)
    return ref


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


def dispute(
    emu: Emulator, charge_id: str, close_as: Literal["won", "lost"] | None = None
) -> dict[str, Any]:
    """Open a dispute on a charge (`charge.dispute.created`), or close its open one."""
    with emu.transaction() as tx:
        ch = tx.get(charge_id, "charge")
        if ch is None:
            raise EmulatorError(f"No such charge: {charge_id}")
        if ch["status"] != "succeeded":
            raise EmulatorError(f"Charge {charge_id} did not succeed; it cannot be disputed.")
        existing = tx.get(ch.get(DISPUTE_KEY) or "", "dispute")
        if existing is not None and existing["status"] in ("won", "lost"):
            raise EmulatorError(f"The dispute on {charge_id} is already closed.")
        if existing is None:
            existing = tx.put(p.dispute(ch))
            ch["disputed"] = True
            ch[DISPUTE_KEY] = existing["id"]
            tx.put(ch)
            emu.emit(tx, "charge.dispute.created", existing)
        elif close_as is None:
            raise EmulatorError(f"Charge {charge_id} already has an open dispute.")
        if close_as is not None:
            if close_as not in ("won", "lost"):
                raise EmulatorError("close_as must be 'won' or 'lost'.")
            existing["status"] = close_as
            tx.put(existing)
            emu.emit(tx, "charge.dispute.closed", existing)
        return existing
