"""MRR counts every item of a subscription, net of discounts still in effect, and nothing
for a trial or paused collection (subscription, item, discount and coupon shapes of the
pinned API: tests/fixtures/stripe/subscription.json, stripe-python v16)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from donations.facts.recurring import recurring_amount
from donations.staff.stats_money import recurring_revenue
from tests.factories import make_user
from tests.payments.stripe_events import PERIOD_END, World, post_event


def _item(unit_amount: int, quantity: int = 1, interval: str = "month", count: int = 1):
    return {
        "object": "subscription_item",
        "quantity": quantity,
        "discounts": [],
        "current_period_start": PERIOD_END - 30 * 86400,
        "current_period_end": PERIOD_END,
        "price": {
            "object": "price",
            "currency": "usd",
            "unit_amount": unit_amount,
            "recurring": {"interval": interval, "interval_count": count},
        },
    }


def _discount(coupon: dict[str, Any] | str, end: int | None = None) -> dict[str, Any]:
    """A Discount of the current layout: its coupon under `source`."""
    return {
        "id": "di_1",
        "object": "discount",
        "end": end,
        "source": {"type": "coupon", "coupon": coupon},
    }


def _coupon(**terms: Any) -> dict[str, Any]:
    return {"id": "co_1", "object": "coupon", "duration": "forever", "currency": None, **terms}


def _sub(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    sub = World().subscription("sub_m", "cus_m", "active")
    sub["items"]["data"] = list(items)
    sub["discounts"] = []
    sub.update(fields)
    return sub


@pytest.mark.parametrize(
    ("sub", "amount"),
    [
        (_sub(_item(800)), 800),
        (_sub(_item(800), _item(300, quantity=2)), 1400),  # every item, quantity included
        (_sub(_item(800), _item(12000, interval="year")), 1800),  # a yearly item, pro rata
        (_sub(_item(1000), discounts=[_discount(_coupon(percent_off=25))]), 750),
        (_sub(_item(1000), discounts=[_discount(_coupon(amount_off=300, currency="usd"))]), 700),
        # An amount off in another currency takes nothing off a bill in USD.
        (_sub(_item(1000), discounts=[_discount(_coupon(amount_off=300, currency="eur"))]), 1000),
        # A repeating discount that ends before the next renewal, and a once-only coupon.
        (_sub(_item(1000), discounts=[_discount(_coupon(percent_off=50), end=PERIOD_END)]), 1000),
        (_sub(_item(1000), discounts=[_discount(_coupon(percent_off=50, duration="once"))]), 1000),
        (
            _sub(_item(1000), discounts=[_discount(_coupon(percent_off=50), end=PERIOD_END + 1)]),
            500,
        ),
        # Item discounts come first, then the subscription's.
        (
            _sub(
                {**_item(1000), "discounts": [_discount(_coupon(amount_off=200, currency="usd"))]},
                discounts=[_discount(_coupon(percent_off=50))],
            ),
            400,
        ),
        # The older layout: one `discount` with its coupon inline.
        (
            _sub(_item(1000), discount={"id": "di_1", "coupon": _coupon(percent_off=10)}),
            900,
        ),
        (_sub(_item(800), status="trialing"), 0),
        (_sub(_item(800), trial_end=PERIOD_END), 0),  # the current period is a trial
        (_sub(_item(800), trial_end=PERIOD_END - 30 * 86400), 800),  # the trial ended
        (_sub(_item(800), pause_collection={"behavior": "void", "resumes_at": None}), 0),
        # A discount named by id only: what it takes off can't be told.
        (_sub(_item(800), discounts=["di_1"]), None),
        (_sub(_item(800), discounts=[_discount("co_1")]), None),
    ],
)
def test_what_a_subscription_brings_in_per_period(sub, amount):
    assert recurring_amount(copy.deepcopy(sub)) == amount


def test_mrr_follows_items_discounts_and_paused_collection_through_webhooks(app, client, db):
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    world = World()
    sub = world.subscription("sub_m", "cus_m", "active", user_id=make_user().id)
    sub["items"]["data"] = [_item(800), _item(300, quantity=2)]
    sub["discounts"] = [_discount(_coupon(percent_off=25))]
    post_event(client, world.event("customer.subscription.created", sub), secret)
    [usd] = recurring_revenue().mrr
    assert (usd.monthly, usd.memberships) == (1050, 1)  # (800 + 600) less 25%

    # A webhook of the pinned API names the discount by id only: what we had stands.
    sub["discounts"] = ["di_1"]
    post_event(client, world.event("customer.subscription.updated", sub, previous={}), secret)
    assert [(r.monthly, r.memberships) for r in recurring_revenue().mrr] == [(1050, 1)]

    sub["pause_collection"] = {"behavior": "mark_uncollectible", "resumes_at": None}
    previous = {"pause_collection": None}
    post_event(client, world.event("customer.subscription.updated", sub, previous=previous), secret)
    revenue = recurring_revenue()
    # Still a member (its status is active), but it brings nothing in while paused.
    assert [(r.monthly, r.memberships) for r in revenue.mrr] == [(0, 0)]
    assert (revenue.by_interval[0].interval, revenue.by_interval[0].memberships) == ("month", 1)
