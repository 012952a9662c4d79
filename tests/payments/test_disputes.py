"""Disputes move money: Stripe holds the disputed amount back from a formal dispute's
opening; a lost dispute keeps it off the payment's net, a won one gives it back.

The table below is written out here (not imported), from Stripe's dispute lifecycle: an
inquiry (warning_*) and a prevented dispute never take the money.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from donations.models import Donation, PaymentAdjustment, StripeEvent
from donations.staff.stats_money import gifts_since
from tests.payments.stripe_events import World

GIFT = 2500
HELD = {"needs_response", "under_review", "appeal_needs_response", "appeal_under_review", "lost"}
EVERY_STATUS = (
    HELD
    | {"warning_needs_response", "warning_under_review", "warning_closed"}
    | {
        "won",
        "prevented",
    }
)


def _gift(world: World, send) -> None:
    send(
        world.event(
            "checkout.session.completed",
            world.checkout("cs_1", customer="cus_1", payment_intent="pi_1", amount=GIFT),
        )
    )


def _dispute(world: World, type_: str, status: str, amount: int = GIFT) -> dict:
    return world.event(
        f"charge.dispute.{type_}", world.dispute("dp_1", "ch_1", "pi_1", status, amount)
    )


def _net(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Donation)).net_amount


def test_a_lost_dispute_takes_the_disputed_amount_off_net(db, world, send):
    _gift(world, send)
    send(_dispute(world, "created", "needs_response", amount=600))
    send(_dispute(world, "closed", "lost", amount=600))
    assert _net(db) == GIFT - 600
    donation = db.session.scalar(select(Donation))
    assert (donation.disputed, donation.amount_disputed, donation.amount_refunded) == (
        True,
        600,
        0,
    )


def test_funds_withdrawn_then_reinstated_when_won(db, world, send):
    _gift(world, send)
    send(_dispute(world, "created", "needs_response"))
    send(_dispute(world, "funds_withdrawn", "needs_response"))
    assert _net(db) == 0
    send(_dispute(world, "closed", "won"))
    send(_dispute(world, "funds_reinstated", "won"))
    assert _net(db) == GIFT
    types = db.session.scalars(select(StripeEvent.status).where(StripeEvent.type.like("%funds%")))
    assert list(types) == ["processed", "processed"]


@pytest.mark.parametrize("status", sorted(EVERY_STATUS))
def test_each_dispute_status_holds_the_money_back_as_stripe_does(db, world, send, status):
    _gift(world, send)
    send(_dispute(world, "updated", status))
    assert _net(db) == (0 if status in HELD else GIFT)
    assert db.session.scalar(select(PaymentAdjustment.dispute_status)) == status


def test_a_prevented_dispute_is_final_and_keeps_the_money(db, world, send):
    _gift(world, send)
    send(_dispute(world, "created", "warning_needs_response"))
    send(_dispute(world, "closed", "prevented"))
    send(_dispute(world, "updated", "needs_response"))  # newer, yet open again: refused
    assert db.session.scalar(select(PaymentAdjustment.dispute_status)) == "prevented"
    assert _net(db) == GIFT


APPEAL_WON = [
    ("created", "needs_response"),
    ("closed", "lost"),
    ("updated", "appeal_needs_response"),
    ("updated", "appeal_under_review"),
    ("closed", "won"),
]


@pytest.mark.parametrize("order", ["as-sent", "reversed", "outcome-first"])
def test_an_appeal_reopens_a_lost_dispute_and_its_outcome_wins_in_any_order(db, world, send, order):
    _gift(world, send)
    story = [_dispute(world, type_, status) for type_, status in APPEAL_WON]
    if order == "reversed":
        story.reverse()
    elif order == "outcome-first":
        story = [story[-1], story[1], *story[2:4], story[0]]
    for event in story:
        send(event)
    assert db.session.scalar(select(PaymentAdjustment.dispute_status)) == "won"
    assert _net(db) == GIFT


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_lost_appeal_keeps_the_money_off_net_in_any_order(db, world, send, order):
    _gift(world, send)
    story = [
        _dispute(world, "closed", "lost"),
        _dispute(world, "updated", "appeal_under_review"),
        _dispute(world, "closed", "lost"),
    ]
    story[2]["id"] += "_appeal_outcome"
    for index in order:
        send(story[index])
    assert _net(db) == 0


def test_the_dashboards_gift_totals_subtract_what_disputes_hold(db, world, send):
    _gift(world, send)
    send(_dispute(world, "closed", "lost", amount=1000))
    [usd] = gifts_since(datetime(2020, 1, 1, tzinfo=UTC))
    assert (usd.gross, usd.refunded, usd.disputed, usd.net) == (GIFT, 0, 1000, GIFT - 1000)


def test_an_appeal_reopens_a_lost_dispute_while_it_is_under_review(db, world, send):
    # The appeal is newer than the loss it appeals: staff see it under review, not "lost".
    _gift(world, send)
    for type_, status in APPEAL_WON[:3]:
        send(_dispute(world, type_, status))
    db.session.expire_all()
    assert db.session.scalar(select(PaymentAdjustment.dispute_status)) == "appeal_needs_response"
