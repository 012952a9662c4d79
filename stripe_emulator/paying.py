"""Paying: completing a Checkout Session with a card, and charging subscription invoices."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from . import billing_objects as b
from . import objects as o
from . import payment_objects as p
from .cards import Card, check_card
from .errors import EmulatorError
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

CARD_KEY = o.PRIVATE + "card"
RETRY_DELAY = 3 * 86400  # Stripe's smart retries try again a few days later


def pay_checkout(
    emu: Emulator,
    session_id: str,
    card_number: str,
    *,
    email: str | None = None,
    name: str | None = None,
    exp_month: int | str | None = None,
    exp_year: int | str | None = None,
    cvc: str | None = None,
) -> str:
    """Pay an open Checkout Session; return the success URL or raise CardError/EmulatorError."""
    with emu.transaction() as tx:
        session = tx.get(session_id, "checkout.session")
        if session is None:
            raise EmulatorError(f"No such checkout session: {session_id}")
        if session["status"] != "open":
            raise EmulatorError(f"Checkout Session {session_id} is {session['status']}.")
        if session["expires_at"] < o.now():
            raise EmulatorError(f"Checkout Session {session_id} has expired.")
        cust = tx.get(session["customer"], "customer") if session["customer"] else None
        email = (cust or {}).get("email") or session["customer_email"] or (email or "").strip()
        if not email:
            raise EmulatorError("An email address is required.")
        card = check_card(card_number, exp_month, exp_year, cvc)
        name = (name or "").strip() or None
        events: list[tuple[str, dict[str, Any]]] = []
        if cust is None:
            # No customer given: Checkout creates one from the email typed on the page.
            cust = tx.put(o.customer(email, name))
            events.append(("customer.created", cust))
        session.update(
            status="complete",
            payment_status="paid",
            customer=cust["id"],
            customer_details={
                "address": o.address(),
                "business_name": None,
                "email": email,
                "individual_name": None,
                "name": name,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
            url=None,
        )
        payment_method = o.new_id("pm_")
        if session["mode"] == "subscription":
            sub, inv = _start_subscription(emu, tx, session, cust, card, name, payment_method)
            session.update(subscription=sub["id"], invoice=inv["id"])
            events += [
                ("checkout.session.completed", session),
                ("customer.subscription.created", sub),
                ("invoice.paid", inv),
                # Webhooks learn the paying PaymentIntent only from this event (basil).
                ("invoice_payment.paid", inv["payments"]["data"][0]),
            ]
        else:
            pi = p.payment_intent(
                session["amount_total"],
                session["currency"],
                cust["id"],
                dict(session[o.PRIVATE + "payment_intent_metadata"]),
                None,
                email,
            )
            ch = _charge(emu, tx, pi, card, email, name, payment_method, None)
            session["payment_intent"] = pi["id"]
            events += [("checkout.session.completed", session), ("charge.succeeded", ch)]
        tx.put(session)
        for event_type, obj in events:
            emu.emit(tx, event_type, obj)
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)


def _start_subscription(
    emu: Emulator,
    tx: Tx,
    session: dict[str, Any],
    cust: dict[str, Any],
    card: Card,
    name: str | None,
    payment_method: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    line = session[o.PRIVATE + "line_items"]["data"][0]
    price_obj = line["price"]
    recurring = price_obj["recurring"]
    start = o.now()
    end = o.add_interval(start, recurring["interval"], recurring["interval_count"])
    sub = b.subscription(
        cust["id"],
        price_obj,
        line["quantity"],
        dict(session[o.PRIVATE + "subscription_metadata"]),
        start,
        end,
        payment_method,
    )
    # Kept so renewals can charge "the card on file" without a page.
    sub[CARD_KEY] = {**dataclasses.asdict(card), "name": name}
    inv = new_invoice(tx, sub, cust, "subscription_create", (start, start))
    pay_invoice(emu, tx, inv, sub, cust)
    sub["latest_invoice"] = inv["id"]
    tx.put(sub)
    return sub, inv


def new_invoice(
    tx: Tx, sub: dict[str, Any], cust: dict[str, Any], reason: str, period: tuple[int, int]
) -> dict[str, Any]:
    """Create an open invoice for the subscription's current period, numbered per customer."""
    sequence = int(cust.get("next_invoice_sequence") or 1)
    cust["next_invoice_sequence"] = sequence + 1
    tx.put(cust)
    item = sub["items"]["data"][0]
    line_period = (item["current_period_start"], item["current_period_end"])
    number = f"{cust['invoice_prefix']}-{sequence:04d}"
    return tx.put(b.invoice(sub, cust, number, reason, period, line_period))


def pay_invoice(
    emu: Emulator,
    tx: Tx,
    inv: dict[str, Any],
    sub: dict[str, Any],
    cust: dict[str, Any],
    failure: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """Charge the card on file for an invoice; `failure` = (decline_code, code, message)."""
    saved = dict(sub[CARD_KEY])
    name = saved.pop("name", None)
    card = Card(**saved)
    description = (
        "Subscription creation"
        if inv["billing_reason"] == "subscription_create"
        else "Subscription update"
    )
    pi = p.payment_intent(
        inv["amount_due"], inv["currency"], cust["id"], {}, description, cust.get("email")
    )
    _charge(emu, tx, pi, card, cust.get("email"), name, sub["default_payment_method"], failure)
    ts = o.now()
    inv["attempt_count"] += 1
    inv["attempted"] = True
    # One entry per invoice: a retry that succeeds replaces the failed attempt's entry.
    inv["payments"]["data"] = [b.invoice_payment(inv, pi["id"], paid=failure is None)]
    inv["payments"]["total_count"] = 1
    if failure is None:
        inv.update(
            status="paid",
            amount_paid=inv["amount_due"],
            amount_remaining=0,
            next_payment_attempt=None,
        )
        inv["status_transitions"]["paid_at"] = ts
    else:
        inv["next_payment_attempt"] = ts + RETRY_DELAY
    return tx.put(inv)


def _charge(
    emu: Emulator,
    tx: Tx,
    pi: dict[str, Any],
    card: Card,
    email: str | None,
    name: str | None,
    payment_method: str,
    failure: tuple[str, str, str] | None,
) -> dict[str, Any]:
    ch = p.charge(pi, card, email, name, payment_method, emu.site_url, failure)
    pi.update(payment_method=payment_method, latest_charge=ch["id"])
    if failure is None:
        pi.update(status="succeeded", amount_received=pi["amount"])
    else:
        decline_code, code, message = failure
        pi["last_payment_error"] = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "charge": ch["id"],
            "payment_method": {"id": payment_method},
        }
    tx.put(pi)
    return tx.put(ch)
