"""Renewals and failed payments: a new period and invoice, retries, and the dunning end state.

Days before a renewal, `invoice.upcoming` previews its invoice (API reference, event types:
"Occurs X number of days before a subscription is scheduled to create an invoice that is
automatically charged … The received Invoice object will not have an invoice ID"; X is the
account's setting, here UPCOMING_DAYS). Then a renewal emits `invoice.created`,
`customer.subscription.updated` (new period), `invoice.finalized` and the payment's events
(see invoicing). A failed payment makes the subscription `past_due`; Stripe retries the
same invoice with the same PaymentIntent, and after the last retry applies the account's
setting (Billing > Revenue recovery > Retries,
docs.stripe.com/billing/revenue-recovery/smart-retries): cancel the subscription, mark it
`unpaid`, pause it, or leave it `past_due`. Pausing needs flexible billing mode; a classic
subscription is canceled instead (docs.stripe.com/billing/revenue-recovery/smart-retries/
pause-on-payment-failure; `paused` arrived with 2026-09-30.endive).

The clock moves as Stripe's days do: the invoice is finalized and charged an hour after the
new period opens, and each retry waits for the invoice's next_payment_attempt, so a history
never has a renewal, its retries and the dunning outcome in one second.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Literal

from . import invoicing
from . import objects as o
from .errors import EmulatorError
from .lifecycle import TERMINAL, end, get_subscription, updated
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

EndState = Literal["canceled", "unpaid", "paused", "past_due"]
END_STATES: tuple[EndState, ...] = ("canceled", "unpaid", "paused", "past_due")
FINALIZE_AFTER = 3600  # seconds from a renewal invoice's creation to its finalization
UPCOMING_DAYS = 3  # Billing settings, "Upcoming renewal events": days before the renewal
# What a renewal failure looks like on the invoice's charge: a generic issuer decline.
RENEWAL_DECLINE = ("generic_decline", "card_declined", "Your card was declined.")


def renew(
    emu: Emulator,
    sub_id: str,
    *,
    fail: bool = False,
    retries: int = 0,
    final_status: EndState = "unpaid",
) -> dict[str, Any]:
    """Renew now, or retry the open invoice of a past_due/unpaid one (see Emulator.renew)."""
    if final_status not in END_STATES:
        raise EmulatorError(f"final_status must be one of {', '.join(END_STATES)}.")
    if retries < 0 or (retries and not fail):
        raise EmulatorError("retries counts further failed attempts; it needs fail=True.")
    with emu.transaction() as tx:
        sub = get_subscription(tx, sub_id)
        if sub["status"] in TERMINAL:
            raise EmulatorError(f"Subscription {sub_id} is {sub['status']}; it cannot renew.")
        if sub["status"] == "paused":
            raise EmulatorError(f"Subscription {sub_id} is paused: it generates no invoices.")
        if sub["cancel_at_period_end"]:
            # The period ends with the cancellation taking effect, not with a new invoice.
            return end(emu, tx, sub, "cancellation_requested")
        cust = tx.get(sub["customer"], "customer")
        if cust is None:
            raise EmulatorError(f"Customer {sub['customer']} of {sub_id} is missing.")
        latest = tx.get(sub["latest_invoice"] or "", "invoice")
        if sub["status"] in ("past_due", "unpaid") and latest and latest["status"] == "open":
            _wait_for_retry(emu, tx, latest)
        else:
            latest = _next_period(emu, tx, sub, cust)
        failure = RENEWAL_DECLINE if fail else None
        before = copy.deepcopy(sub)
        if invoicing.attempt(emu, tx, latest, sub, cust, failure):
            sub["status"] = "active"
            updated(emu, tx, sub, before)
            return sub
        if sub["status"] == "active":
            sub["status"] = "past_due"
            updated(emu, tx, sub, before)
        for _ in range(retries):
            _wait_for_retry(emu, tx, latest)
            invoicing.attempt(emu, tx, latest, sub, cust, RENEWAL_DECLINE)
        if latest["attempt_count"] > 1:
            # That was the last retry: the account's setting decides what happens next.
            _end_state(emu, tx, sub, latest, final_status)
        return sub


def advance_past_period_end(emu: Emulator, sub_id: str) -> dict[str, Any]:
    """Let the current period end: a cancelling subscription ends, any other one renews."""
    with emu.transaction() as tx:
        sub = get_subscription(tx, sub_id)
        if sub["status"] in TERMINAL:
            raise EmulatorError(f"Subscription {sub_id} is already {sub['status']}.")
        if sub["cancel_at_period_end"]:
            return end(emu, tx, sub, "cancellation_requested")
    return renew(emu, sub_id)


def _next_period(
    emu: Emulator, tx: Tx, sub: dict[str, Any], cust: dict[str, Any]
) -> dict[str, Any]:
    """Start the next period and invoice it (upcoming, created, period update, finalized)."""
    item = sub["items"]["data"][0]
    old = (item["current_period_start"], item["current_period_end"])
    recurring = item["price"]["recurring"]
    new = (old[1], o.add_interval(old[1], recurring["interval"], recurring["interval_count"]))
    invoicing.upcoming(emu, tx, sub, cust, old, new)
    emu.pass_time(tx, UPCOMING_DAYS * 86400)  # never in the renewal's second
    before = copy.deepcopy(sub)
    item["current_period_start"], item["current_period_end"] = new
    inv = invoicing.create(emu, tx, sub, cust, "subscription_cycle", old)
    sub["latest_invoice"] = inv["id"]
    updated(emu, tx, sub, before)
    # Stripe finalizes a renewal invoice (and charges it) about an hour after creating it
    # (shared/stripe-behaviour.md, Sequences: "renewal").
    emu.pass_time(tx, FINALIZE_AFTER)
    return invoicing.finalize(emu, tx, inv, cust)


def _wait_for_retry(emu: Emulator, tx: Tx, inv: dict[str, Any]) -> None:
    """Let the clock reach the invoice's next_payment_attempt: Stripe retries days apart.

    So each attempt, and the account's end state after the last one, carry the time Stripe's
    would, never the second of the attempt before. With no retry scheduled (the last one
    has failed), a payment happens now: the customer pays the open invoice.
    """
    due = inv.get("next_payment_attempt")
    if due:
        emu.pass_time(tx, due - o.now())


def _end_state(
    emu: Emulator, tx: Tx, sub: dict[str, Any], inv: dict[str, Any], state: EndState
) -> None:
    invoicing.stop_retrying(tx, inv)
    if state == "paused" and sub["billing_mode"]["type"] != "flexible":
        state = "canceled"  # Stripe cancels what it cannot pause
    if state == "canceled":
        end(emu, tx, sub, "payment_failed")
    elif state == "unpaid":
        before = copy.deepcopy(sub)
        sub["status"] = "unpaid"
        updated(emu, tx, sub, before)
    elif state == "paused":
        before = {**copy.deepcopy(sub), "status_details": None}
        sub["status"] = "paused"
        sub["status_details"] = {
            "paused": {
                "subscription": {"type": "final_payment_failure"},
                "transitioned_at": o.now(),
                "type": "subscription",
            }
        }
        tx.put(sub)
        emu.emit(tx, "customer.subscription.paused", sub)
        updated(emu, tx, sub, before)
    # "past_due": left as it is, with no further attempt scheduled.
