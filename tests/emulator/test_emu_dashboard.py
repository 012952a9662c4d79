"""A subscription made in the Dashboard: no Checkout, created active, carrying no one's tag."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator import CardDeclined, Emulator, EmulatorError

CARD = "4242424242424242"


def _customer(emu_client: stripe.StripeClient) -> str:
    return emu_client.v1.customers.create(params={"email": "box@example.org"}).id


def test_a_dashboard_subscription_is_active_from_its_creation_and_paid(
    emu: Emulator, emu_client: stripe.StripeClient
) -> None:
    customer = _customer(emu_client)
    sub = emu.create_subscription(
        customer, amount=1500, currency="usd", interval="month", card_number=CARD
    )
    assert (sub["status"], sub["metadata"], sub["customer"]) == ("active", {}, customer)
    created = emu.events("customer.subscription.created")
    assert [e["data"]["object"]["status"] for e in created] == ["active"]
    assert emu.events("customer.subscription.updated") == []  # Checkout's incomplete -> active
    invoice = emu_client.v1.invoices.retrieve(sub["latest_invoice"])
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == (
        "paid",
        1500,
        "subscription_create",
    )
    assert invoice.parent.subscription_details.metadata.to_dict() == {}
    assert [e["type"] for e in emu.events("invoice_payment.paid")] == ["invoice_payment.paid"]
    listed = emu_client.v1.subscriptions.retrieve(sub["id"])
    assert listed.items.data[0].price.recurring.interval == "month"


def test_a_dashboard_subscription_is_refused_as_stripe_would(
    emu: Emulator, emu_client: stripe.StripeClient
) -> None:
    customer = _customer(emu_client)
    with pytest.raises(EmulatorError, match="No such customer"):
        emu.create_subscription(
            "cus_nope", amount=1500, currency="usd", interval="month", card_number=CARD
        )
    with pytest.raises(EmulatorError, match="at least"):
        emu.create_subscription(
            customer, amount=10, currency="usd", interval="month", card_number=CARD
        )
    with pytest.raises(CardDeclined):
        emu.create_subscription(
            customer, amount=1500, currency="usd", interval="month", card_number="4000000000000002"
        )
    assert emu.list_objects("subscription") == []
