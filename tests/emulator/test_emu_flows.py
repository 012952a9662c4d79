"""Paying, renewing, cancelling, refunding and disputing, and the events each emits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe

from stripe_emulator import CardDeclined, CardError, Emulator, EmulatorError

from .conftest import SECRET, SITE, Inbox


def test_subscription_checkout_creates_linked_objects_and_events(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    session = emu_session(customer_email="reader@example.com")
    url = emu.pay_checkout(session.id, "4242424242424242", name="Ada Reader")
    assert url == f"{SITE}/support/thanks?session_id={session.id}"
    assert emu.deliver_pending(timeout=2) == 5
    events = emu_inbox.events()
    assert [e.type for e in events] == [
        "customer.created",
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
        "invoice_payment.paid",
    ]
    completed = events[1].data.object
    assert isinstance(completed, stripe.checkout.Session)
    assert (completed.status, completed.payment_status) == ("complete", "paid")
    assert completed.client_reference_id == "42"
    assert completed.metadata["user_id"] == "42"
    assert completed.customer_details.email == "reader@example.com"
    assert completed.customer == events[0].data.object.id
    assert (completed.amount_total, completed.currency, completed.mode) == (
        800,
        "usd",
        "subscription",
    )
    sub = events[2].data.object
    assert isinstance(sub, stripe.Subscription)
    assert sub.id == completed.subscription
    assert sub.status == "active"
    assert sub.metadata["user_id"] == "42"
    item = sub["items"].data[0]
    assert item.current_period_end > item.current_period_start
    assert item.price.recurring.interval == "month"
    invoice = events[3].data.object
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.parent.subscription_details.subscription == sub.id
    assert (invoice.customer, invoice.amount_paid, invoice.currency) == (sub.customer, 800, "usd")
    assert invoice.status == "paid"
    assert invoice.billing_reason == "subscription_create"
    assert invoice.lines.data[0].period.end == item.current_period_end
    assert "payments" not in invoice  # includable: only on a retrieve that expands it
    expanded = emu_client.v1.invoices.retrieve(invoice.id, params={"expand": ["payments"]})
    pi_id = expanded.payments.data[0].payment.payment_intent
    charge = emu_client.v1.charges.list(params={"payment_intent": pi_id}).data[0]
    assert (charge.customer, charge.amount, charge.status) == (sub.customer, 800, "succeeded")
    assert charge.billing_details.email == "reader@example.com"
    assert charge.billing_details.name == "Ada Reader"
    assert charge.receipt_url
    pi = emu_client.v1.payment_intents.retrieve(pi_id)
    assert (pi.status, pi.latest_charge) == ("succeeded", charge.id)
    stored = emu_client.v1.checkout.sessions.retrieve(session.id)
    assert stored.invoice == invoice.id
    assert stored.url is None


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


def test_one_time_gift_creates_customer_and_charge(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    session = emu_session("payment")
    emu.pay_checkout(session.id, "4242424242424242", email="giver@example.com")
    emu.deliver_pending(timeout=2)
    events = emu_inbox.events()
    assert [e.type for e in events] == [
        "customer.created",
        "checkout.session.completed",
        "charge.succeeded",
    ]
    completed, charge = events[1].data.object, events[2].data.object
    assert completed.payment_status == "paid"
    assert completed.payment_intent == charge.payment_intent
    assert completed.subscription is None
    assert isinstance(charge, stripe.Charge)
    assert charge.metadata["user_id"] == "42"  # payment_intent_data[metadata] reaches the charge
    assert charge.billing_details.email == "giver@example.com"
    assert emu_client.v1.customers.retrieve(completed.customer).email == "giver@example.com"


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
    emu.deliver_pending(timeout=2)
    assert emu_inbox.types()[0] == "checkout.session.completed"
    assert emu_inbox.events()[0].data.object.customer == customer.id


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


def test_renew_paid_advances_period(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    old_end = emu_member["items"].data[0].current_period_end
    emu.renew(emu_member.id)
    emu.deliver_pending(timeout=2)
    events = emu_inbox.events()
    assert [e.type for e in events] == [
        "customer.subscription.updated",
        "invoice.paid",
        "invoice_payment.paid",
    ]
    sub = events[0].data.object
    assert isinstance(sub, stripe.Subscription)
    assert sub["items"].data[0].current_period_start == old_end
    assert sub["items"].data[0].current_period_end > old_end
    previous = events[0].data.previous_attributes
    assert previous["items"]["data"][0]["current_period_end"] == old_end
    invoice = events[1].data.object
    assert invoice.billing_reason == "subscription_cycle"
    assert invoice.amount_paid == 800
    assert sub.latest_invoice == invoice.id


def test_renew_failures_past_due_then_unpaid_then_recovered(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_inbox: Inbox,
    emu_client: stripe.StripeClient,
) -> None:
    assert emu.renew(emu_member.id, fail=True)["status"] == "past_due"
    emu.deliver_pending(timeout=2)
    events = emu_inbox.events()
    assert [e.type for e in events] == ["invoice.payment_failed", "customer.subscription.updated"]
    assert events[0].data.object.status == "open"
    assert events[1].data.object.status == "past_due"
    assert events[1].data.previous_attributes["status"] == "active"
    emu_inbox.received.clear()
    assert emu.renew(emu_member.id, fail=True)["status"] == "unpaid"
    emu.deliver_pending(timeout=2)
    assert emu_inbox.types() == ["invoice.payment_failed", "customer.subscription.updated"]
    assert emu_inbox.events()[0].data.object.attempt_count == 2
    emu_inbox.received.clear()
    assert emu.renew(emu_member.id)["status"] == "active"
    emu.deliver_pending(timeout=2)
    assert emu_inbox.types() == [
        "invoice.paid",
        "invoice_payment.paid",
        "customer.subscription.updated",
    ]
    assert emu_client.v1.subscriptions.retrieve(emu_member.id).status == "active"


def test_second_failure_can_cancel(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    emu.renew(emu_member.id, fail=True)
    emu.deliver_pending(timeout=2)
    emu_inbox.received.clear()
    assert emu.renew(emu_member.id, fail=True, final_status="canceled")["status"] == "canceled"
    emu.deliver_pending(timeout=2)
    assert emu_inbox.types() == ["invoice.payment_failed", "customer.subscription.deleted"]
    deleted = emu_inbox.events()[1].data.object
    assert deleted.cancellation_details.reason == "payment_failed"
    with pytest.raises(EmulatorError):
        emu.renew(emu_member.id)


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


def _charge_of(emu_client: stripe.StripeClient, customer: str) -> stripe.Charge:
    return emu_client.v1.charges.list(params={"customer": customer}).data[0]


def test_refund_partial_full_and_over(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    charge = _charge_of(emu_client, emu_member.customer)
    refund = emu_client.v1.refunds.create(params={"charge": charge.id, "amount": 300})
    assert isinstance(refund, stripe.Refund)
    assert (refund.amount, refund.status, refund.charge) == (300, "succeeded", charge.id)
    with pytest.raises(stripe.InvalidRequestError) as over:
        emu_client.v1.refunds.create(params={"charge": charge.id, "amount": 501})
    assert over.value.param == "amount"
    rest = emu.refund(charge.id)
    assert rest["amount"] == 500
    emu.deliver_pending(timeout=2)
    events = emu_inbox.events()
    assert [e.type for e in events] == ["charge.refunded", "charge.refunded"]
    assert (events[0].data.object.amount_refunded, events[0].data.object.refunded) == (300, False)
    assert (events[1].data.object.amount_refunded, events[1].data.object.refunded) == (
        500 + 300,
        True,
    )
    assert events[1].data.previous_attributes["amount_refunded"] == 300
    with pytest.raises(EmulatorError, match="already been refunded"):
        emu.refund(charge.id)


def test_refund_by_payment_intent(
    emu: Emulator, emu_session: Callable[..., Any], emu_client: stripe.StripeClient
) -> None:
    session = emu_session("payment")
    emu.pay_checkout(session.id, "4242424242424242", email="g@example.com")
    pi_id = emu_client.v1.checkout.sessions.retrieve(session.id).payment_intent
    refund = emu_client.v1.refunds.create(params={"payment_intent": pi_id})
    assert refund.amount == 800
    assert refund.payment_intent == pi_id


def test_dispute_opened_and_closed(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    charge = _charge_of(emu_client, emu_member.customer)
    opened = emu.dispute(charge.id)
    assert opened["status"] == "needs_response"
    closed = emu.dispute(charge.id, close_as="lost")
    assert closed["id"] == opened["id"]
    emu.deliver_pending(timeout=2)
    events = emu_inbox.events()
    assert [e.type for e in events] == ["charge.dispute.created", "charge.dispute.closed"]
    assert isinstance(events[0].data.object, stripe.Dispute)
    assert events[1].data.object.status == "lost"
    assert events[1].data.object.charge == charge.id
    assert emu_client.v1.charges.retrieve(charge.id).disputed is True
    with pytest.raises(EmulatorError):
        emu.dispute(charge.id, close_as="won")


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
    assert len(reborn.events()) == 5
