"""The objects in the emulator's events have the current API's fields, as Stripe's fixtures do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from stripe_emulator import Emulator

from .conftest import Inbox
from .sequences import delivered, fixture_keys, only

# Fields of a fixture that the current API does not send in an event payload, and why.
NOT_IN_PAYLOADS = {
    # Includable since API 2022-11-15: only with expand[]=refunds.
    "charge": {"refunds"},
    # Basil (2025-03-31) moved it to parent.subscription_details; stripe-behaviour.md.
    "invoice": {"subscription"},
}


def _keys(obj: stripe.StripeObject) -> set[str]:
    return set(obj.to_dict())


def test_payloads_have_the_fixtures_fields(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_member: stripe.Subscription,
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    session = emu_session("payment", customer_creation="always")
    emu.pay_checkout(session.id, "4242424242424242", email="g@example.com")
    events = delivered(emu, emu_inbox)
    charge = only(events, "charge.succeeded").data.object
    emu.refund(charge.id, 100)
    emu.dispute(charge.id)
    money_back = delivered(emu, emu_inbox)
    emu.renew(emu_member.id)
    renewal = delivered(emu, emu_inbox)
    payloads = {
        "checkout_session": only(events, "checkout.session.completed"),
        "customer": only(events, "customer.created"),
        "payment_intent": only(events, "payment_intent.created"),
        "charge": only(events, "charge.updated"),
        "refund": only(money_back, "refund.created"),
        "dispute": only(money_back, "charge.dispute.created"),
        "invoice": only(renewal, "invoice.paid"),
        "subscription": only(renewal, "customer.subscription.updated"),
    }
    for name, event in payloads.items():
        expected = fixture_keys(name) - NOT_IN_PAYLOADS.get(name, set())
        assert _keys(event.data.object) == expected, name
    invoice = payloads["invoice"].data.object
    assert "payments" not in invoice  # only with expand[]=payments
    assert _keys(invoice["lines"].data[0]) >= {"parent", "period", "pricing"}


def test_invoice_payment_has_the_sdk_fields(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    emu.renew(emu_member.id)
    payment = only(delivered(emu, emu_inbox), "invoice_payment.paid").data.object
    # The pinned SDK's typed InvoicePayment (stripe-python v16, API 2026-10-28.endive).
    declared = {
        name
        for name in stripe.InvoicePayment.__annotations__
        if not name.startswith("_") and name not in ("OBJECT_NAME",)
    }
    assert _keys(payment) == declared
    assert _keys(payment.payment) >= {"type", "payment_intent"}
    assert payment.status_transitions.paid_at
