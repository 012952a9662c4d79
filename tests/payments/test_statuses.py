"""Every Stripe status against the design notes (§2), written out here and not imported.

The code's own sets would agree with themselves whatever they said, so each table below
is the rule copied from the design notes, and every status Stripe has is checked against
it: on the enums, and through the webhook path that moves the member count.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from donations.membership import totals
from donations.membership.progress import get_progress, recount_members
from donations.membership.services import has_active_membership, memberships_of
from donations.models import DisputeStatus, Membership, PaymentAdjustment, SubscriptionStatus
from tests.factories import make_user
from tests.payments.stripe_events import World, post_event

# Stripe's subscription statuses, all of them (the SDK's `Subscription.status`).
EVERY_SUBSCRIPTION_STATUS = {
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
}
# §2: a member has a membership that is `active`, `trialing` or `past_due`.
MEMBER = {"active", "trialing", "past_due"}
# §2: `canceled` and `incomplete_expired` are terminal: nothing later turns them back.
TERMINAL = {"canceled", "incomplete_expired"}

# Stripe's dispute statuses (stripe-behaviour.md); a dispute with an outcome is closed.
EVERY_DISPUTE_STATUS = {
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "appeal_needs_response",
    "appeal_under_review",
    "won",
    "lost",
    "prevented",
}
# `prevented` (API 2025-08-27): Stripe blocked or resolved it before it became a chargeback;
# it is final, like the outcomes.
CLOSED_DISPUTE = {"won", "lost", "warning_closed", "prevented"}


def test_the_enums_name_every_status_stripe_has():
    assert {s.value for s in SubscriptionStatus} == EVERY_SUBSCRIPTION_STATUS
    assert {s.value for s in DisputeStatus} == EVERY_DISPUTE_STATUS


@pytest.mark.parametrize("status", sorted(EVERY_SUBSCRIPTION_STATUS))
def test_each_subscription_status_is_member_and_terminal_as_the_design_says(status):
    assert SubscriptionStatus(status).is_member is (status in MEMBER)
    assert SubscriptionStatus(status).is_terminal is (status in TERMINAL)


@pytest.mark.parametrize("status", sorted(EVERY_DISPUTE_STATUS))
def test_each_dispute_status_is_closed_as_the_design_says(status):
    assert DisputeStatus(status).is_closed is (status in CLOSED_DISPUTE)


def _send(app, client, event) -> None:
    response = post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("status", sorted(EVERY_SUBSCRIPTION_STATUS))
def test_a_webhook_with_each_status_counts_the_person_as_the_design_says(app, client, db, status):
    user = make_user()
    world = World()
    sub = lambda status: world.subscription("sub_1", "cus_1", status, user_id=user.id)  # noqa: E731
    _send(app, client, world.event("customer.subscription.updated", sub(status)))

    expected = 1 if status in MEMBER else 0
    membership = db.session.scalar(select(Membership))
    assert membership.status == status
    assert membership.is_member is (status in MEMBER)
    assert get_progress().members == expected == recount_members()
    assert has_active_membership(user.id) is (status in MEMBER)
    assert [m.is_member for m in memberships_of(user.id)] == [status in MEMBER]
    assert sum(totals.maintained_totals().values()) == expected


@pytest.mark.parametrize("status", sorted(EVERY_SUBSCRIPTION_STATUS))
def test_a_later_active_fact_revives_only_the_statuses_that_are_not_terminal(
    app, client, db, status
):
    user = make_user()
    world = World()
    sub = lambda status: world.subscription("sub_1", "cus_1", status, user_id=user.id)  # noqa: E731
    _send(app, client, world.event("customer.subscription.updated", sub(status)))
    _send(app, client, world.event("customer.subscription.updated", sub("active")))  # newer

    membership = db.session.scalar(select(Membership))
    if status in TERMINAL:
        assert membership.status == status
        assert get_progress().members == 0 == recount_members()
    else:
        assert membership.status == "active"
        assert get_progress().members == 1 == recount_members()


@pytest.mark.parametrize("closed", sorted(CLOSED_DISPUTE))
def test_a_newer_open_dispute_fact_does_not_reopen_a_closed_dispute(app, client, db, closed):
    world = World()
    _send(
        app,
        client,
        world.event(
            "checkout.session.completed",
            world.checkout("cs_1", customer="cus_1", payment_intent="pi_1"),
        ),
    )
    _send(
        app,
        client,
        world.event("charge.dispute.closed", world.dispute("dp_1", "ch_1", "pi_1", closed)),
    )
    # Stamped a minute after the close (World's clock only moves forward), yet open again.
    _send(
        app,
        client,
        world.event(
            "charge.dispute.updated", world.dispute("dp_1", "ch_1", "pi_1", "needs_response")
        ),
    )
    adjustment = db.session.scalar(select(PaymentAdjustment))
    assert (adjustment.disputed, adjustment.dispute_status) == (True, closed)


def test_a_newer_open_dispute_fact_replaces_an_older_open_one(app, client, db):
    world = World()
    for status in ("warning_needs_response", "needs_response", "under_review"):
        _send(
            app,
            client,
            world.event("charge.dispute.updated", world.dispute("dp_1", "ch_1", "pi_1", status)),
        )
    assert db.session.scalar(select(PaymentAdjustment.dispute_status)) == "under_review"
