"""Charging a card for a PaymentIntent, and the events each step emits (types per Stripe's docs).

A successful charge emits `charge.succeeded` and `payment_intent.succeeded`; a declined one
`charge.failed` and `payment_intent.payment_failed`. A retry charges the same PaymentIntent
again: a new charge, the same `pi_` id.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from . import balance
from . import objects as o
from . import payment_objects as p
from .cards import REFUND_BEHAVIOUR, Card
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

# The card a subscription pays with, kept so renewals can charge "the card on file".
CARD_KEY = o.PRIVATE + "card"

# (decline_code, code, message) of a declined charge.
Failure = tuple[str, str, str]


def save_card(sub: dict[str, Any], card: Card, name: str | None) -> None:
    """Remember the card a subscription was started with."""
    sub[CARD_KEY] = {**dataclasses.asdict(card), "name": name}


def saved_card(sub: dict[str, Any]) -> tuple[Card, str | None]:
    """Return a subscription's card on file and the cardholder's name."""
    saved = dict(sub[CARD_KEY])
    name = saved.pop("name", None)
    return Card(**saved), name


def create_intent(
    emu: Emulator,
    tx: Tx,
    amount: int,
    currency: str,
    customer_id: str | None,
    *,
    metadata: dict[str, str] | None = None,
    description: str | None = None,
    receipt_email: str | None = None,
) -> dict[str, Any]:
    """Create a PaymentIntent awaiting its payment method: `payment_intent.created`."""
    pi = tx.put(
        p.payment_intent(amount, currency, customer_id, metadata or {}, description, receipt_email)
    )
    emu.emit(tx, "payment_intent.created", pi)
    return pi


def charge(
    emu: Emulator,
    tx: Tx,
    pi: dict[str, Any],
    card: Card,
    *,
    email: str | None,
    name: str | None,
    payment_method: str,
    failure: Failure | None = None,
    settled: bool = False,
) -> dict[str, Any]:
    """Charge a card for a PaymentIntent; `settled` attaches the balance transaction at once."""
    ch = p.charge(pi, card, email, name, payment_method, emu.site_url, failure)
    ch[p.REFUND_BEHAVIOUR] = REFUND_BEHAVIOUR.get(card.number)
    pi.update(payment_method=payment_method, latest_charge=ch["id"])
    if failure is None:
        if settled:
            ch["balance_transaction"] = balance.for_charge(emu, tx, ch)
        pi.update(status="succeeded", amount_received=pi["amount"], last_payment_error=None)
        tx.put(ch)
        tx.put(pi)
        emu.emit(tx, "charge.succeeded", ch)
        emu.emit(tx, "payment_intent.succeeded", pi)
        return ch
    decline_code, code, message = failure
    # A declined confirmation leaves the intent waiting for a (new) payment method.
    pi.update(
        status="requires_payment_method",
        last_payment_error={
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "charge": ch["id"],
            "payment_method": {"id": payment_method, "object": "payment_method"},
        },
    )
    tx.put(ch)
    tx.put(pi)
    emu.emit(tx, "charge.failed", ch)
    emu.emit(tx, "payment_intent.payment_failed", pi)
    return ch


def settle(emu: Emulator, tx: Tx, ch: dict[str, Any]) -> dict[str, Any]:
    """Attach the balance transaction to a succeeded charge, which Stripe reports later."""
    previous = {"balance_transaction": ch["balance_transaction"]}
    ch["balance_transaction"] = balance.for_charge(emu, tx, ch)
    tx.put(ch)
    emu.emit(tx, "charge.updated", ch, previous_attributes=previous)
    return ch
