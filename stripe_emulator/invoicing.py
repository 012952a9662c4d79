"""A subscription invoice's life: a draft, finalized with a PaymentIntent, then paid or not.

Events per step, as Stripe sends them: `invoice.created` (draft), `invoice.finalized` (open,
with `payment_intent.created`), then per attempt the charge events and either `invoice.paid`,
`invoice.payment_succeeded` and `invoice_payment.paid`, or `invoice.payment_failed`. Every
attempt charges the same PaymentIntent (Stripe's retries reuse it). The invoice carries no
top-level `payment_intent` since API 2025-03-31.basil; its link to the payment is the
InvoicePayment (`invoice_payment.paid`, or `expand[]=payments`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import billing_objects as b
from . import charging
from . import objects as o
from .charging import Failure
from .errors import EmulatorError
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

INTENT = o.PRIVATE + "payment_intent"
# Stripe's Smart Retries try again days later (its recommended policy: 8 tries within 2 weeks,
# docs.stripe.com/billing/revenue-recovery/smart-retries); the emulator retries every 3 days,
# when next_payment_attempt says (dunning moves its clock there).
RETRY_DELAY = 3 * 86400


def create(
    emu: Emulator,
    tx: Tx,
    sub: dict[str, Any],
    cust: dict[str, Any],
    reason: str,
    period: tuple[int, int],
) -> dict[str, Any]:
    """Create a draft invoice for the subscription's current item: `invoice.created`."""
    item = sub["items"]["data"][0]
    line_period = (item["current_period_start"], item["current_period_end"])
    inv = tx.put(b.invoice(sub, cust, reason, period, line_period))
    emu.emit(tx, "invoice.created", inv)
    return inv


def upcoming(
    emu: Emulator,
    tx: Tx,
    sub: dict[str, Any],
    cust: dict[str, Any],
    period: tuple[int, int],
    line_period: tuple[int, int],
) -> dict[str, Any]:
    """Preview the next period's invoice: `invoice.upcoming`, an invoice with no id, unstored."""
    preview = b.invoice(sub, cust, "upcoming", period, line_period)
    del preview["id"]  # "The received Invoice object will not have an invoice ID"
    for line in preview["lines"]["data"]:
        line["invoice"] = None
    preview["lines"]["url"] = None
    emu.emit(tx, "invoice.upcoming", preview)
    return preview


def finalize(emu: Emulator, tx: Tx, inv: dict[str, Any], cust: dict[str, Any]) -> dict[str, Any]:
    """Number the invoice, open it and create the PaymentIntent that will collect it."""
    sequence = int(cust.get("next_invoice_sequence") or 1)
    cust["next_invoice_sequence"] = sequence + 1
    tx.put(cust)
    ts = o.now()
    inv.update(
        number=f"{cust['invoice_prefix']}-{sequence:04d}",
        status="open",
        effective_at=ts,
        webhooks_delivered_at=ts,
    )
    inv["status_transitions"]["finalized_at"] = ts
    creating = inv["billing_reason"] == "subscription_create"
    pi = charging.create_intent(
        emu,
        tx,
        inv["amount_due"],
        inv["currency"],
        cust["id"],
        description="Subscription creation" if creating else "Subscription update",
        receipt_email=cust.get("email"),
    )
    payment = tx.put(b.invoice_payment(inv, pi["id"]))
    inv[INTENT] = pi["id"]
    inv[b.PAYMENTS]["data"] = [payment]
    inv[b.PAYMENTS]["total_count"] = 1
    tx.put(inv)
    emu.emit(tx, "invoice.finalized", inv)
    return inv


def attempt(
    emu: Emulator,
    tx: Tx,
    inv: dict[str, Any],
    sub: dict[str, Any],
    cust: dict[str, Any],
    failure: Failure | None = None,
) -> bool:
    """Charge the card on file for an open invoice; return whether it was paid."""
    pi = tx.get(inv.get(INTENT) or "", "payment_intent")
    if pi is None:
        raise EmulatorError(f"Invoice {inv['id']} has no PaymentIntent (an older state file?).")
    card, name = charging.saved_card(sub)
    # Invoice charges are reported with their balance transaction; the Sequences table
    # (shared/stripe-behaviour.md) lists a later `charge.updated` for one-time payments only.
    charging.charge(
        emu,
        tx,
        pi,
        card,
        email=cust.get("email"),
        name=name,
        payment_method=sub["default_payment_method"],
        failure=failure,
        settled=True,
    )
    ts = o.now()
    inv["attempt_count"] += 1
    inv["attempted"] = True
    if failure is not None:
        inv["next_payment_attempt"] = ts + RETRY_DELAY
        tx.put(inv)
        emu.emit(tx, "invoice.payment_failed", inv)
        return False
    payment = tx.get(inv[b.PAYMENTS]["data"][0]["id"], "invoice_payment")
    assert payment is not None
    payment.update(amount_paid=inv["amount_due"], status="paid")
    payment["status_transitions"]["paid_at"] = ts
    tx.put(payment)
    inv[b.PAYMENTS]["data"] = [payment]
    inv.update(
        status="paid",
        amount_paid=inv["amount_due"],
        amount_remaining=0,
        next_payment_attempt=None,
    )
    inv["status_transitions"]["paid_at"] = ts
    tx.put(inv)
    emu.emit(tx, "invoice.paid", inv)
    emu.emit(tx, "invoice.payment_succeeded", inv)
    emu.emit(tx, "invoice_payment.paid", payment)
    return True


def stop_retrying(tx: Tx, inv: dict[str, Any]) -> None:
    """The last retry failed: Stripe schedules no further attempt."""
    inv["next_payment_attempt"] = None
    tx.put(inv)
