"""Disputes through the control: chargebacks won and lost, inquiries, every pinned status."""

from __future__ import annotations

from collections import Counter

import pytest
import stripe

from stripe_emulator import Emulator, EmulatorError
from stripe_emulator.disputes import CLOSED, STATUSES

from .conftest import Inbox
from .sequences import delivered, only, types

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
