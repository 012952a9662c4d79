"""Disputes through the control: chargebacks won and lost, inquiries, every pinned status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from stripe_emulator import Emulator, EmulatorError
from stripe_emulator.disputes import CLOSED, STATUSES

from .conftest import Inbox
from .sequences import delivered, fixture_keys, only, types

# shared/stripe-behaviour.md, Sequences: "dispute"
OPENED = Counter(["charge.dispute.created", "charge.dispute.funds_withdrawn"])
DECIDED = Counter(["charge.dispute.updated", "charge.dispute.closed"])


@pytest.fixture
def charge(emu_member: stripe.Subscription, emu_client: stripe.StripeClient) -> stripe.Charge:
    """The paid charge of a membership."""
    return emu_client.v1.charges.list(params={"customer": emu_member.customer}).data[0]


def test_a_won_dispute_reinstates_the_funds(
    emu: Emulator, charge: stripe.Charge, emu_client: stripe.StripeClient, emu_inbox: Inbox
) -> None:
    opened = emu.dispute(charge.id)
    assert opened["status"] == "needs_response"
    events = delivered(emu, emu_inbox)
    assert types(events) == OPENED
    created = only(events, "charge.dispute.created").data.object
    assert isinstance(created, stripe.Dispute)
    assert (created.charge, created.payment_intent) == (charge.id, charge.payment_intent)
    withdrawn = only(events, "charge.dispute.funds_withdrawn").data.object
    assert [t.amount for t in withdrawn.balance_transactions] == [-800]
    assert emu_client.v1.charges.retrieve(charge.id).disputed is True
    won = emu.dispute(charge.id, close_as="won")
    assert won["id"] == opened["id"]
    events = delivered(emu, emu_inbox)
    assert types(events) == DECIDED + Counter(["charge.dispute.funds_reinstated"])
    assert only(events, "charge.dispute.updated").data.object.status == "under_review"
    closed = only(events, "charge.dispute.closed")
    assert closed.data.object.status == "won"
    assert closed.data.previous_attributes["status"] == "under_review"
    reinstated = only(events, "charge.dispute.funds_reinstated").data.object
    assert [t.amount for t in reinstated.balance_transactions] == [-800, 800]
    with pytest.raises(EmulatorError, match="closed"):
        emu.dispute(charge.id, close_as="lost")


def test_a_lost_dispute_keeps_the_funds_withdrawn(
    emu: Emulator, charge: stripe.Charge, emu_inbox: Inbox
) -> None:
    emu.dispute(charge.id, close_as="lost")
    events = delivered(emu, emu_inbox)
    assert types(events) == OPENED + DECIDED
    assert only(events, "charge.dispute.closed").data.object.status == "lost"


def test_an_inquiry_moves_no_money_until_it_escalates(
    emu: Emulator, charge: stripe.Charge, emu_inbox: Inbox
) -> None:
    inquiry = emu.dispute(charge.id, inquiry=True)
    assert inquiry["status"] == "warning_needs_response"
    events = delivered(emu, emu_inbox)
    assert types(events) == Counter(["charge.dispute.created"])
    assert only(events, "charge.dispute.created").data.object.is_charge_refundable is True
    with pytest.raises(EmulatorError, match="inquiry"):
        emu.dispute(charge.id, close_as="won")
    emu.dispute(charge.id, status="needs_response")
    events = delivered(emu, emu_inbox)
    assert types(events) == Counter(["charge.dispute.funds_withdrawn", "charge.dispute.updated"])
    escalated = only(events, "charge.dispute.updated")
    assert escalated.data.previous_attributes["status"] == "warning_needs_response"
    assert escalated.data.object.payment_method_details.card.case_type == "chargeback"
    with pytest.raises(EmulatorError):
        emu.dispute(charge.id, status="warning_closed")  # a chargeback stays one


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_of_the_pinned_api_is_reachable(
    emu: Emulator,
    charge: stripe.Charge,
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
    status: str,
) -> None:
    inquiry = status.startswith("warning_")
    opened = emu.dispute(charge.id, inquiry=inquiry)
    delivered(emu, emu_inbox)
    if opened["status"] != status:
        emu.dispute(charge.id, status=status)
        expected = "charge.dispute.closed" if status in CLOSED else "charge.dispute.updated"
        assert expected in types(delivered(emu, emu_inbox))
    listed = emu_client.v1.events.list(params={"type": "charge.dispute.*", "limit": 1}).data[0]
    assert listed.data.object.status == status


def test_unknown_dispute_status_is_refused(emu: Emulator, charge: stripe.Charge) -> None:
    with pytest.raises(EmulatorError, match="status must be one of"):
        emu.dispute(charge.id, status="resolved")


def _paid_gifts(emu: Emulator, emu_session: Callable[..., Any], count: int) -> list[str]:
    """Charges of `count` one-time gifts, oldest first."""
    for n in range(count):
        session = emu_session("payment")
        emu.pay_checkout(session.id, "4242424242424242", email=f"giver{n}@example.com")
    return [c["id"] for c in reversed(emu.list_objects("charge")) if c["status"] == "succeeded"]


def test_disputes_are_listed_newest_first_and_retrieved(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
) -> None:
    charges = _paid_gifts(emu, emu_session, 3)
    opened = [emu.dispute(charge_id) for charge_id in charges[:2]]
    emu.advance_clock(3600)
    emu.dispute(charges[0], close_as="lost")  # a dispute's `created` stays its opening
    emu.dispute(charges[2], inquiry=True)
    first = emu_client.v1.disputes.list(params={"limit": 2})
    assert (first.object, first.url, first.has_more) == ("list", "/v1/disputes", True)
    rest = emu_client.v1.disputes.list(params={"limit": 2, "starting_after": first.data[-1].id})
    listed = [d.id for d in first.data + rest.data]
    newest_first = [d["id"] for d in emu.list_objects("dispute")]
    assert listed == newest_first and not rest.has_more
    assert newest_first[1:] == [opened[1]["id"], opened[0]["id"]]
    lost = emu_client.v1.disputes.retrieve(opened[0]["id"])
    assert isinstance(lost, stripe.Dispute)
    assert (lost.status, lost.charge, lost.amount) == ("lost", charges[0], opened[0]["amount"])
    assert set(lost.to_dict()) == fixture_keys("dispute")  # Stripe's example dispute's fields
    by_charge = emu_client.v1.disputes.list(params={"charge": charges[1]}).data
    assert [d.id for d in by_charge] == [opened[1]["id"]]
    intent = lost.payment_intent
    by_intent = emu_client.v1.disputes.list(params={"payment_intent": intent}).data
    assert [d.id for d in by_intent] == [lost.id]
    later = emu_client.v1.disputes.list(params={"created": {"gt": opened[1]["created"]}}).data
    assert [d.id for d in later] == [newest_first[0]]
    expanded = emu_client.v1.disputes.list(params={"expand": ["data.charge"], "limit": 1})
    assert expanded.data[0].charge.id == charges[2]


def test_the_dispute_api_refuses_what_stripe_refuses(emu_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        emu_client.v1.disputes.retrieve("dp_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter: status"):
        emu_client.v1.disputes.list(params={"status": "lost"})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(stripe.InvalidRequestError) as too_many:
        emu_client.v1.disputes.list(params={"limit": 101})
    assert too_many.value.param == "limit"
