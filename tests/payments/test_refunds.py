"""Refunds follow their own status: a failed or canceled refund gives the money back.

Stripe tells of refunds twice over: each refund in its status (`refund.created`,
`refund.updated`, `refund.failed`, `charge.refund.updated`) and the charge's running total
(`charge.refunded`), which goes down again when a refund fails. Any order, any repeat.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from donations import models
from donations.models import Donation
from tests.payments.layouts import old_charge
from tests.payments.stripe_events import World

GIFT = 5000


def _gift(world: World, send) -> None:
    send(
        world.event(
            "checkout.session.completed",
            world.checkout("cs_1", customer="cus_1", payment_intent="pi_1", amount=GIFT),
        )
    )


def _net(db) -> tuple[int, int]:
    db.session.expire_all()
    donation = db.session.scalar(select(Donation))
    return donation.amount_refunded, donation.net_amount


def _refund_story(world: World, *, end: str = "failed", amount: int = 1000) -> list[dict]:
    """A refund is asked for, succeeds, then ends `end` (failed, canceled or succeeded)."""
    created = next(world.clock)

    def refund(status: str) -> dict:
        return world.refund("re_1", "ch_1", "pi_1", status, amount=amount, created=created)

    story = [
        world.event("refund.created", refund("pending"), at=created),
        world.event(
            "charge.refunded",
            world.charge("ch_1", "pi_1", amount=GIFT, refunded=amount),
            at=created,
        ),
        world.event("refund.updated", refund("succeeded")),
    ]
    if end == "failed":
        story.append(world.event("refund.failed", refund("failed")))
    elif end == "canceled":
        story.append(world.event("charge.refund.updated", refund("canceled")))
    return story


def test_a_refund_that_succeeds_reduces_net(db, world, send):
    _gift(world, send)
    for event in _refund_story(world, end="succeeded"):
        send(event)
    assert _net(db) == (1000, GIFT - 1000)


@pytest.mark.parametrize("end", ["failed", "canceled"])
def test_a_failed_or_canceled_refund_gives_the_money_back(db, world, send, end):
    _gift(world, send)
    story = _refund_story(world, end=end)
    for event in story[:-1]:
        send(event)
    assert _net(db) == (1000, GIFT - 1000)
    send(story[-1])
    assert _net(db) == (0, GIFT)
    assert db.session.scalar(select(models.Refund.status)) == end


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_a_failed_refund_ends_the_same_in_any_order(db, world, send, order):
    _gift(world, send)
    story = _refund_story(world, end="failed")
    for index in order:
        send(story[index])
    assert _net(db) == (0, GIFT)


def test_a_repeated_refund_counts_once(db, world, send):
    _gift(world, send)
    created = next(world.clock)
    event = world.event(
        "refund.created",
        world.refund("re_1", "ch_1", "pi_1", "succeeded", amount=700, created=created),
        at=created,
    )
    send(event)
    send({**event, "id": event["id"] + "_again"})  # the same refund told by another event
    assert _net(db) == (700, GIFT - 700)


def test_the_total_goes_down_and_up_with_later_refunds(db, world, send):
    _gift(world, send)
    first, second = next(world.clock), next(world.clock)
    send(
        world.event(
            "refund.created",
            world.refund("re_1", "ch_1", "pi_1", "pending", amount=1000, created=first),
            at=first,
        )
    )
    send(
        world.event(
            "charge.refunded",
            world.charge("ch_1", "pi_1", amount=GIFT, refunded=1500),  # re_1 and re_2
            at=second,
        )
    )
    send(
        world.event("refund.failed", world.refund("re_1", "ch_1", "pi_1", "failed", created=first))
    )
    assert _net(db) == (500, GIFT - 500)  # re_2, told only by the charge's total, stays
    later = next(world.clock)
    send(
        world.event(
            "refund.created",
            world.refund("re_3", "ch_1", "pi_1", "succeeded", amount=200, created=later),
            at=later,
        )
    )
    assert _net(db) == (700, GIFT - 700)


def test_a_refund_naming_only_its_charge_waits_for_the_charge(db, world, send):
    _gift(world, send)
    paid, created = next(world.clock), next(world.clock)
    send(
        world.event(
            "refund.created",
            world.refund("re_1", "ch_1", None, "succeeded", amount=400, created=created),
            at=created,
        )
    )
    assert _net(db) == (0, GIFT)  # which payment? not known yet
    # The charge's own event is older: it arrives late.
    send(world.event("charge.succeeded", world.charge("ch_1", "pi_1", amount=GIFT), at=paid))
    assert _net(db) == (400, GIFT - 400)


def test_an_old_charge_lists_its_refunds_with_their_statuses(db, world, send):
    _gift(world, send)
    earlier = 1_789_999_000  # both before the event that lists them
    failed = world.refund("re_1", "ch_1", "pi_1", "failed", amount=1000, created=earlier)
    kept = world.refund("re_2", "ch_1", "pi_1", "succeeded", amount=300, created=earlier)
    charge = old_charge(world.charge("ch_1", "pi_1", amount=GIFT, refunded=300), [failed, kept])
    send(world.event("charge.refunded", charge))
    assert _net(db) == (300, GIFT - 300)
    assert db.session.scalars(select(models.Refund.status).order_by(models.Refund.id)).all() == [
        "failed",
        "succeeded",
    ]


def test_a_refund_of_a_membership_payment_told_only_by_refund_events(db, world, send):
    send(world.event("invoice.paid", world.invoice("in_1", "sub_1", "cus_1")))
    send(world.event("invoice_payment.paid", world.invoice_payment("in_1", "pi_1")))
    send(world.event("refund.created", world.refund("re_1", "ch_1", "pi_1", amount=800)))
    assert _net(db) == (800, 0)
