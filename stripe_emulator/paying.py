"""Paying a Checkout Session with a card: a one-time payment, or the start of a subscription.

What each emits follows shared/stripe-behaviour.md ("Sequences"; the order is not part of it):
- subscription: `customer.created` (new customer only), `customer.subscription.created`
  (`incomplete`), the first invoice's events (see invoicing), `customer.subscription.updated`
  (incomplete -> active) and `checkout.session.completed`;
- payment: `customer.created` when Checkout creates one, `payment_intent.created`,
  `payment_intent.succeeded`, `charge.succeeded`, `checkout.session.completed`, then
  `charge.updated` once the balance transaction is attached;
- a declined card in payment mode: the session's PaymentIntent (`payment_intent.created` the
  first time) gets a failed charge, `charge.failed` and `payment_intent.payment_failed`
  ("failed renewal" in stripe-behaviour.md; docs.stripe.com/payments/payment-intents/
  verifying-status: a decline leaves the intent in `requires_payment_method`), and the
  session stays open for another card, which pays the same PaymentIntent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import billing_objects as b
from . import charging, expiry, invoicing
from . import objects as o
from .cards import Card, decline_of, read_card
from .errors import CardDeclined, EmulatorError
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator


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
    # A session past its expires_at expires (and says so) before anyone may pay it.
    expiry.expire_if_due(emu, session_id)
    with emu.transaction() as tx:
        session = tx.get(session_id, "checkout.session")
        if session is None:
            raise EmulatorError(f"No such checkout session: {session_id}")
        if session["status"] != "open":
            raise EmulatorError(f"Checkout Session {session_id} is {session['status']}.")
        cust = tx.get(session["customer"], "customer") if session["customer"] else None
        email = (cust or {}).get("email") or session["customer_email"] or (email or "").strip()
        if not email:
            raise EmulatorError("An email address is required.")
        card = read_card(card_number, exp_month, exp_year, cvc)
        name = (name or "").strip() or None
        declined = decline_of(card)
        if declined is None:
            _complete(emu, tx, session, cust, card, email, name)
        elif session["mode"] == "payment":
            _decline(emu, tx, session, card, email, name, declined)
            tx.put(session)
    if declined is not None:
        raise declined  # after the commit: the failed attempt and its events are kept
    return str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)


def _complete(
    emu: Emulator,
    tx: Tx,
    session: dict[str, Any],
    cust: dict[str, Any] | None,
    card: Card,
    email: str,
    name: str | None,
) -> None:
    """The card paid: complete the session, start the subscription or take the payment."""
    if cust is None and _creates_customer(session):
        cust = tx.put(o.customer(email, name))
        emu.emit(tx, "customer.created", cust)
    session.update(
        status="complete",
        payment_status="paid",
        customer=cust["id"] if cust else None,
        customer_details=_details(email, name),
        url=None,
    )
    payment_method = o.new_id("pm_")
    if session["mode"] == "subscription":
        assert cust is not None
        sub, inv = _start_subscription(emu, tx, session, cust, card, name, payment_method)
        session.update(subscription=sub["id"], invoice=inv["id"])
        tx.put(session)
        emu.emit(tx, "checkout.session.completed", session)
    else:
        ch = _pay_once(emu, tx, session, cust, card, email, name, payment_method)
        tx.put(session)
        emu.emit(tx, "checkout.session.completed", session)
        charging.settle(emu, tx, ch)


def _creates_customer(session: dict[str, Any]) -> bool:
    # Subscription mode always needs a customer; in payment mode Checkout creates one only
    # with customer_creation=always. `if_required` (the default since API 2022-08-01,
    # docs.stripe.com/changelog/2022-08-01/default-customer-creation-checkout-session) makes
    # one only when something needs it (e.g. a post-purchase invoice), so a guest stays one.
    return session["mode"] == "subscription" or session["customer_creation"] == "always"


def _details(email: str, name: str | None) -> dict[str, Any]:
    return {
        "address": o.address(),
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def _intent(
    emu: Emulator, tx: Tx, session: dict[str, Any], cust: dict[str, Any] | None, email: str
) -> dict[str, Any]:
    """The session's PaymentIntent: made at the first attempt, paid again after a decline."""
    if session["payment_intent"]:
        return tx.get(session["payment_intent"], "payment_intent")  # type: ignore[return-value]
    pi = charging.create_intent(
        emu,
        tx,
        session["amount_total"],
        session["currency"],
        cust["id"] if cust else None,
        metadata=dict(session[o.PRIVATE + "payment_intent_metadata"]),
        receipt_email=email,
    )
    session["payment_intent"] = pi["id"]
    return pi


def _decline(
    emu: Emulator,
    tx: Tx,
    session: dict[str, Any],
    card: Card,
    email: str,
    name: str | None,
    declined: CardDeclined,
) -> None:
    pi = _intent(emu, tx, session, None, email)
    failure = (declined.decline_code or "generic_decline", declined.code, declined.message)
    charging.charge(
        emu, tx, pi, card, email=email, name=name, payment_method=o.new_id("pm_"), failure=failure
    )


def _pay_once(
    emu: Emulator,
    tx: Tx,
    session: dict[str, Any],
    cust: dict[str, Any] | None,
    card: Card,
    email: str,
    name: str | None,
    payment_method: str,
) -> dict[str, Any]:
    pi = _intent(emu, tx, session, cust, email)
    if cust is not None and pi["customer"] is None:
        pi["customer"] = cust["id"]  # Checkout made the customer after a declined attempt
    return charging.charge(emu, tx, pi, card, email=email, name=name, payment_method=payment_method)


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
    charging.save_card(sub, card, name)
    inv = invoicing.create(emu, tx, sub, cust, "subscription_create", (start, start))
    sub["latest_invoice"] = inv["id"]
    tx.put(sub)
    emu.emit(tx, "customer.subscription.created", sub)
    invoicing.finalize(emu, tx, inv, cust)
    invoicing.attempt(emu, tx, inv, sub, cust)
    # Paying the first invoice is what makes the subscription active.
    sub["status"] = "active"
    tx.put(sub)
    emu.emit(tx, "customer.subscription.updated", sub, previous_attributes={"status": "incomplete"})
    return sub, inv
