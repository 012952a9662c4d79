"""Paying through Checkout, cancelling, resending and restarting, and the events each emits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from stripe_emulator import CardDeclined, CardError, Emulator, EmulatorError

from .conftest import SECRET, SITE, Inbox
from .sequences import ONE_TIME_CHECKOUT, SUBSCRIPTION_CHECKOUT, delivered, of_type, only, types


def test_subscription_through_checkout_emits_what_stripe_emits(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    session = emu_session(customer_email="reader@example.com")
    url = emu.pay_checkout(session.id, "4242424242424242", name="Ada Reader")
    assert url == f"{SITE}/support/thanks?session_id={session.id}"
    events = delivered(emu, emu_inbox)
    # shared/stripe-behaviour.md, Sequences (laravel/cashier-stripe#1466, pay-rails/pay#282)
    assert types(events) == SUBSCRIPTION_CHECKOUT
    completed = only(events, "checkout.session.completed").data.object
    assert isinstance(completed, stripe.checkout.Session)
    assert (completed.status, completed.payment_status) == ("complete", "paid")
    assert completed.client_reference_id == "42"
    assert completed.metadata["user_id"] == "42"
    assert completed.customer_details.email == "reader@example.com"
    assert completed.customer == only(events, "customer.created").data.object.id
    assert (completed.amount_total, completed.currency, completed.mode) == (
        800,
        "usd",
        "subscription",
    )
    created = only(events, "customer.subscription.created").data.object
    assert isinstance(created, stripe.Subscription)
    assert created.id == completed.subscription
    assert created.status == "incomplete"  # Checkout's subscriptions start incomplete
    assert created.billing_mode.type == "flexible"  # since 2025-09-30.clover
    assert created.metadata["user_id"] == "42"
    activated = only(events, "customer.subscription.updated")
    assert activated.data.object.status == "active"
    assert activated.data.previous_attributes.to_dict() == {"status": "incomplete"}
    item = activated.data.object["items"].data[0]
    assert item.current_period_end > item.current_period_start
    assert item.price.recurring.interval == "month"
    draft = only(events, "invoice.created").data.object
    assert (draft.status, draft.number) == ("draft", None)
    assert only(events, "invoice.finalized").data.object.status == "open"
    invoice = only(events, "invoice.paid").data.object
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.id == draft.id == completed.invoice == created.latest_invoice
    assert invoice.parent.subscription_details.subscription == created.id
    assert (invoice.customer, invoice.amount_paid) == (created.customer, 800)
    assert (invoice.status, invoice.billing_reason) == ("paid", "subscription_create")
    assert invoice.lines.data[0].period.end == item.current_period_end
    assert only(events, "invoice.payment_succeeded").data.object.id == invoice.id
    # The invoice names no payment in webhooks; invoice_payment.paid is the link (design §8).
    for event in of_type(events, "invoice.created") + of_type(events, "invoice.paid"):
        assert "payments" not in event.data.object
        assert "payment_intent" not in event.data.object
    payment = only(events, "invoice_payment.paid").data.object
    assert isinstance(payment, stripe.InvoicePayment)
    assert (payment.invoice, payment.status, payment.amount_paid) == (invoice.id, "paid", 800)
    assert payment.payment.type == "payment_intent"
    pi_id = payment.payment.payment_intent
    assert only(events, "payment_intent.succeeded").data.object.id == pi_id
    assert only(events, "payment_intent.created").data.object.status == "requires_payment_method"
    charge = only(events, "charge.succeeded").data.object
    assert (charge.payment_intent, charge.customer) == (pi_id, created.customer)
    assert "refunds" not in charge  # not sent since API 2022-11-15
    assert charge.billing_details.email == "reader@example.com"
    assert charge.billing_details.name == "Ada Reader"
    assert charge.receipt_url
    pi = emu_client.v1.payment_intents.retrieve(pi_id)
    assert (pi.status, pi.latest_charge) == ("succeeded", charge.id)
    stored = emu_client.v1.checkout.sessions.retrieve(session.id)
    assert stored.invoice == invoice.id
    assert stored.url is None


def test_invoice_payments_only_when_expanded(
    emu: Emulator, emu_member: stripe.Subscription, emu_client: stripe.StripeClient
) -> None:
    invoice_id = str(emu_member.latest_invoice)
    assert "payments" not in emu_client.v1.invoices.retrieve(invoice_id)
    expanded = emu_client.v1.invoices.retrieve(invoice_id, params={"expand": ["payments"]})
    (payment,) = expanded.payments.data
    assert payment.invoice == invoice_id
    assert payment.payment.payment_intent.startswith("pi_")


def test_every_event_is_signed_for_the_webhook_secret(
    emu: Emulator, emu_session: Callable[..., Any], emu_inbox: Inbox
) -> None:
    emu.pay_checkout(emu_session().id, "4242424242424242", email="a@example.com")
    emu.deliver_pending(timeout=2)
    assert emu_inbox.received
    for url, body, headers in emu_inbox.received:
        assert url == f"{SITE}/stripe/webhook"
        assert headers["Content-Type"].startswith("application/json")
        event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
        assert event.api_version == "2026-10-28.endive"
        assert event.livemode is False
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_other")


def test_one_time_payment_emits_what_stripe_emits(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    session = emu_session("payment", customer_creation="always")
    emu.pay_checkout(session.id, "4242424242424242", email="giver@example.com")
    events = delivered(emu, emu_inbox)
    assert types(events) == ONE_TIME_CHECKOUT + Counter(["customer.created"])
    completed = only(events, "checkout.session.completed").data.object
    charge = only(events, "charge.succeeded").data.object
    assert completed.payment_status == "paid"
    assert completed.payment_intent == charge.payment_intent
    assert completed.subscription is None
    assert isinstance(charge, stripe.Charge)
    assert charge.metadata["user_id"] == "42"  # payment_intent_data[metadata] reaches the charge
    assert charge.billing_details.email == "giver@example.com"
    assert "refunds" not in charge
    # The balance transaction arrives after the charge: charge.updated says so.
    assert charge.balance_transaction is None
    later = only(events, "charge.updated")
    assert later.data.object.id == charge.id
    assert later.data.object.balance_transaction.startswith("txn_")
    assert later.data.previous_attributes.to_dict() == {"balance_transaction": None}
    assert emu_client.v1.customers.retrieve(completed.customer).email == "giver@example.com"


def test_guest_payment_with_if_required_creates_no_customer(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    session = emu_session("payment")  # customer_creation defaults to if_required
    assert session.customer_creation == "if_required"
    emu.pay_checkout(session.id, "4242424242424242", email="guest@example.com")
    events = delivered(emu, emu_inbox)
    assert types(events) == ONE_TIME_CHECKOUT
    completed = only(events, "checkout.session.completed").data.object
    assert completed.customer is None
    assert completed.customer_details.email == "guest@example.com"
    assert only(events, "charge.succeeded").data.object.customer is None
    assert emu_client.v1.customers.list().data == []


def test_existing_customer_is_not_created_again(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    customer = emu_client.v1.customers.create(params={"email": "known@example.com"})
    emu.deliver_pending(timeout=2)
    emu_inbox.received.clear()
    session = emu_session(customer=customer.id)
    emu.pay_checkout(session.id, "4242424242424242")
    events = delivered(emu, emu_inbox)
    assert types(events) == SUBSCRIPTION_CHECKOUT - Counter(["customer.created"])
    assert only(events, "checkout.session.completed").data.object.customer == customer.id


def test_declined_card_then_good_card(
    emu: Emulator, emu_session: Callable[..., Any], emu_client: stripe.StripeClient
) -> None:
    session = emu_session(customer_email="reader@example.com")
    with pytest.raises(CardDeclined) as caught:
        emu.pay_checkout(session.id, "4000000000000002")
    assert caught.value.message == "Your card was declined."
    assert caught.value.decline_code == "generic_decline"
    with pytest.raises(CardDeclined, match="insufficient funds"):
        emu.pay_checkout(session.id, "4000000000009995")
    assert emu.events() == []
    assert emu_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    emu.pay_checkout(session.id, "4242424242424242")
    assert emu_client.v1.checkout.sessions.retrieve(session.id).status == "complete"
    with pytest.raises(EmulatorError):
        emu.pay_checkout(session.id, "4242424242424242")


@pytest.mark.parametrize(
    ("number", "exp", "cvc", "message"),
    [
        ("4242424242424241", ("12", "40"), "123", "Your card number is invalid."),
        ("4242424242424242", ("01", "20"), "123", "Your card's expiration date is in the past."),
        ("4242424242424242", ("12", "40"), "12", "Your card's security code is invalid."),
        ("4242424242424242", ("13", "40"), "123", "Your card's expiration month is invalid."),
    ],
)
def test_card_checks(
    emu: Emulator,
    emu_session: Callable[..., Any],
    number: str,
    exp: tuple[str, str],
    cvc: str,
    message: str,
) -> None:
    session = emu_session(customer_email="a@example.com")
    with pytest.raises(CardError) as caught:
        emu.pay_checkout(session.id, number, exp_month=exp[0], exp_year=exp[1], cvc=cvc)
    assert caught.value.message == message
    assert not isinstance(caught.value, CardDeclined)


def test_cancel_at_period_end_then_advance(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_inbox: Inbox,
    emu_client: stripe.StripeClient,
) -> None:
    emu.cancel(emu_member.id, at_period_end=True)
    emu.deliver_pending(timeout=2)
    (updated,) = emu_inbox.events()
    assert updated.type == "customer.subscription.updated"
    assert updated.data.object.cancel_at_period_end is True
    assert updated.data.object.status == "active"
    assert updated.data.previous_attributes["cancel_at_period_end"] is False
    emu_inbox.received.clear()
    emu.advance_past_period_end(emu_member.id)
    emu.deliver_pending(timeout=2)
    (deleted,) = emu_inbox.events()
    assert deleted.type == "customer.subscription.deleted"
    assert deleted.data.object.status == "canceled"
    assert deleted.data.object.ended_at
    default = emu_client.v1.subscriptions.list(params={"customer": emu_member.customer})
    assert default.data == []  # Stripe hides canceled subscriptions unless asked
    everything = emu_client.v1.subscriptions.list(params={"status": "all"})
    assert [s.status for s in everything.data] == ["canceled"]


def test_api_update_and_cancel(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    sub = emu_client.v1.subscriptions.update(
        emu_member.id, params={"cancel_at_period_end": True, "metadata": {"note": "bye"}}
    )
    assert sub.cancel_at_period_end is True
    assert sub.cancel_at == sub["items"].data[0].current_period_end
    assert sub.metadata.to_dict() == {"user_id": "42", "note": "bye"}
    resumed = emu_client.v1.subscriptions.update(
        emu_member.id, params={"cancel_at_period_end": False}
    )
    assert resumed.cancel_at_period_end is False
    canceled = emu_client.v1.subscriptions.cancel(emu_member.id)
    assert canceled.status == "canceled"
    emu.deliver_pending(timeout=2)
    assert emu_inbox.types() == [
        "customer.subscription.updated",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ]


def test_resend_delivers_the_same_event_again(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    event_id = emu.events("invoice.paid")[0]["id"]
    emu.resend(event_id)
    emu.deliver_pending(timeout=2)
    (again,) = emu_inbox.events()
    assert (again.id, again.type) == (event_id, "invoice.paid")
    with pytest.raises(EmulatorError):
        emu.resend("evt_missing")


def test_drop_deliveries_records_but_does_not_deliver(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_inbox: Inbox,
    emu_client: stripe.StripeClient,
) -> None:
    emu.set_drop_deliveries(True)
    assert emu.drop_deliveries is True
    emu.renew(emu_member.id)
    assert emu.deliver_pending(timeout=0.5) == 0
    assert emu_inbox.received == []
    listed = emu_client.v1.events.list(params={"type": "invoice.paid", "limit": 1}).data
    assert listed[0].data.object.billing_reason == "subscription_cycle"
    assert {r["status"] for r in emu.deliveries(listed[0].id)} == {"dropped"}
    emu.set_drop_deliveries(False)
    emu.cancel(emu_member.id, at_period_end=False)
    emu.deliver_pending(timeout=2)
    assert emu_inbox.types() == ["customer.subscription.deleted"]


def test_state_survives_restart(
    emu_factory: Callable[..., Emulator], emu_session: Callable[..., Any], emu: Emulator
) -> None:
    session = emu_session(customer_email="keep@example.com")
    emu.pay_checkout(session.id, "4242424242424242")
    emu.set_drop_deliveries(True)
    emu.close()
    reborn = emu_factory()
    client = stripe.StripeClient("sk_test_emulator", http_client=reborn.http_client)
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert again.status == "complete"
    assert client.v1.subscriptions.retrieve(again.subscription).status == "active"
    assert reborn.drop_deliveries is True
    assert Counter(e["type"] for e in reborn.events()) == SUBSCRIPTION_CHECKOUT
