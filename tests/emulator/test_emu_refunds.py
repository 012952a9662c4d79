"""Refunds through the SDK and the controls: events, the charge's shape, failure, cancellation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from stripe_emulator import Emulator, EmulatorError

from .conftest import Inbox
from .sequences import delivered, of_type, only, types

# shared/stripe-behaviour.md, Sequences: "refund (full or partial)"
REFUNDED = Counter(["refund.created", "refund.updated", "charge.refunded"])


def _paid_gift(emu: Emulator, emu_session: Callable[..., Any], card: str) -> stripe.Charge:
    session = emu_session("payment", customer_creation="always")
    emu.pay_checkout(session.id, card, email="giver@example.com")
    client = stripe.StripeClient("sk_test_emulator", http_client=emu.http_client)
    pi_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    return client.v1.charges.list(params={"payment_intent": pi_id}).data[0]


def _member_charge(emu_client: stripe.StripeClient, customer: str) -> stripe.Charge:
    return emu_client.v1.charges.list(params={"customer": customer}).data[0]


def test_partial_then_full_refund_emit_stripes_events(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    charge = _member_charge(emu_client, str(emu_member.customer))
    refund = emu_client.v1.refunds.create(params={"charge": charge.id, "amount": 300})
    assert isinstance(refund, stripe.Refund)
    assert (refund.amount, refund.status, refund.charge) == (300, "succeeded", charge.id)
    events = delivered(emu, emu_inbox)
    assert types(events) == REFUNDED
    refunded = only(events, "charge.refunded")
    assert (refunded.data.object.amount_refunded, refunded.data.object.refunded) == (300, False)
    assert "refunds" not in refunded.data.object  # no refunds list since API 2022-11-15
    assert refunded.data.previous_attributes.to_dict() == {"amount_refunded": 0}
    updated = only(events, "refund.updated")
    assert updated.data.object.destination_details.card.reference_status == "available"
    assert updated.data.previous_attributes.destination_details.card.reference_status == "pending"
    with pytest.raises(stripe.InvalidRequestError) as over:
        emu_client.v1.refunds.create(params={"charge": charge.id, "amount": 501})
    assert over.value.param == "amount"
    assert emu.refund(charge.id)["amount"] == 500
    events = delivered(emu, emu_inbox)
    assert types(events) == REFUNDED
    full = only(events, "charge.refunded")
    assert (full.data.object.amount_refunded, full.data.object.refunded) == (800, True)
    assert full.data.previous_attributes.to_dict() == {"amount_refunded": 300, "refunded": False}
    with pytest.raises(EmulatorError, match="already been refunded"):
        emu.refund(charge.id)
    expanded = emu_client.v1.charges.retrieve(charge.id, params={"expand": ["refunds"]})
    assert [r.amount for r in expanded.refunds.data] == [500, 300]
    assert "refunds" not in emu_client.v1.charges.retrieve(charge.id)


def test_refund_by_payment_intent(
    emu: Emulator, emu_session: Callable[..., Any], emu_client: stripe.StripeClient
) -> None:
    charge = _paid_gift(emu, emu_session, "4242424242424242")
    refund = emu_client.v1.refunds.create(params={"payment_intent": charge.payment_intent})
    assert refund.amount == 800
    assert (refund.payment_intent, refund.customer) == (charge.payment_intent, charge.customer)


def test_a_failed_refund_gives_the_money_back_to_the_charge(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    charge = _member_charge(emu_client, str(emu_member.customer))
    refund = emu.refund(charge.id)
    delivered(emu, emu_inbox)
    failed = emu.fail_refund(refund["id"])
    assert failed["status"] == "failed"
    events = delivered(emu, emu_inbox)
    assert types(events) == Counter(["refund.failed", "refund.updated"])
    obj = only(events, "refund.failed").data.object
    assert (obj.status, obj.failure_reason) == ("failed", "expired_or_canceled_card")
    assert obj.failure_balance_transaction.startswith("txn_")
    assert only(events, "refund.updated").data.previous_attributes["status"] == "succeeded"
    after = emu_client.v1.charges.retrieve(charge.id)
    assert (after.amount_refunded, after.refunded) == (0, False)
    assert emu_client.v1.refunds.retrieve(refund["id"]).status == "failed"
    with pytest.raises(EmulatorError):
        emu.fail_refund(refund["id"])  # it failed already
    assert emu.refund(charge.id)["amount"] == 800  # the money can be refunded again


def test_a_refund_can_be_canceled_only_within_its_window(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    charge = _member_charge(emu_client, str(emu_member.customer))
    first = emu.refund(charge.id, 300)
    delivered(emu, emu_inbox)
    canceled = emu.cancel_refund(first["id"])
    assert (canceled["status"], canceled["failure_reason"]) == ("canceled", "merchant_request")
    (event,) = delivered(emu, emu_inbox)
    assert event.type == "refund.updated"
    assert event.data.object.status == "canceled"
    assert event.data.previous_attributes["status"] == "succeeded"
    assert emu_client.v1.charges.retrieve(charge.id).amount_refunded == 0
    late = emu.refund(charge.id, 300)
    emu.advance_clock(31 * 60)  # 30 minutes in test mode (docs.stripe.com/testing)
    with pytest.raises(EmulatorError, match="cancellation window"):
        emu.cancel_refund(late["id"])


@pytest.mark.parametrize(
    ("card", "first", "final", "later"),
    [
        ("4000000000007726", "pending", "succeeded", Counter(["refund.updated"] * 2)),
        ("4000000000005126", "succeeded", "failed", Counter(["refund.updated", "refund.failed"])),
    ],
)
def test_the_refund_test_cards_settle_some_time_later(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
    card: str,
    first: str,
    final: str,
    later: Counter[str],
) -> None:
    charge = _paid_gift(emu, emu_session, card)
    delivered(emu, emu_inbox)
    refund = emu_client.v1.refunds.create(params={"charge": charge.id})
    assert refund.status == first
    events = delivered(emu, emu_inbox)
    assert {"refund.created", "charge.refunded"} <= set(types(events))
    assert "refund.failed" not in types(events)
    assert emu.advance_clock(120)["settled"] == [refund.id]
    events = delivered(emu, emu_inbox)
    assert types(events) == later
    assert emu_client.v1.refunds.retrieve(refund.id).status == final
    status_change = [
        e for e in of_type(events, "refund.updated") if "status" in e.data.previous_attributes
    ]
    assert status_change[0].data.previous_attributes["status"] == first
    refunded = emu_client.v1.charges.retrieve(charge.id).amount_refunded
    assert refunded == (800 if final == "succeeded" else 0)


def test_a_charged_back_charge_cannot_be_refunded(
    emu: Emulator, emu_member: stripe.Subscription, emu_client: stripe.StripeClient
) -> None:
    charge = _member_charge(emu_client, str(emu_member.customer))
    emu.dispute(charge.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_client.v1.refunds.create(params={"charge": charge.id})
    assert caught.value.code == "charge_disputed"
