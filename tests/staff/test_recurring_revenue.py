"""Monthly recurring revenue honours Stripe's interval_count: a quarterly plan is month x 3."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from donations.membership import totals
from donations.models import Membership
from donations.staff.stats_money import monthly_amount, recurring_revenue
from tests.factories import login, make_user
from tests.payments.layouts import old_subscription
from tests.payments.stripe_events import World, post_event


@pytest.mark.parametrize(
    ("amount", "interval", "count", "monthly"),
    [
        (2400, "month", 3, 800),  # quarterly
        (1000, "month", 3, 333),
        (1001, "month", 2, 501),  # half up
        (2400, "year", 2, 100),  # every two years
        (800, "month", 1, 800),
    ],
)
def test_an_amount_per_period_becomes_monthly(amount, interval, count, monthly):
    assert monthly_amount(amount, interval, count) == monthly


@pytest.mark.parametrize("layout", ["current", "old-plan-only"])
def test_a_quarterly_membership_adds_a_third_of_its_amount_to_mrr(app, client, db, layout):
    world = World()
    sub = world.subscription(
        "sub_q", "cus_q", "active", user_id=make_user().id, amount=2400, interval_count=3
    )
    if layout != "current":
        sub = old_subscription(sub, plan_only=True)
    post_event(
        client,
        world.event("customer.subscription.created", sub),
        app.config["STRIPE_WEBHOOK_SECRET"],
    )
    [usd] = recurring_revenue().mrr
    assert (usd.currency, usd.monthly, usd.memberships) == ("usd", 800, 1)
    membership = db.session.scalar(select(Membership))
    assert (membership.interval, membership.interval_count, membership.amount) == (
        "month",
        3,
        2400,
    )
    assert (
        totals.maintained_totals() == totals.totals_from_scratch() == {("usd", "month", 3, 2400): 1}
    )


def test_a_quarterly_plan_shows_its_period(app, client, db):
    world = World()
    user = make_user()
    sub = world.subscription("sub_q", "cus_q", "active", user_id=user.id, interval_count=3)
    post_event(
        client,
        world.event("customer.subscription.created", sub),
        app.config["STRIPE_WEBHOOK_SECRET"],
    )
    login(client, user)
    assert "/ 3 months" in client.get("/account").get_data(as_text=True)
