"""The account page shows the membership as Stripe last told us, and the payment history."""

from __future__ import annotations

from html import unescape

import pytest

from tests.factories import login, make_user
from tests.payments.stripe_events import World, post_event


@pytest.fixture
def member(app, client, db):
    user = make_user(email="reader@example.org")
    login(client, user)
    return user


def _page(client) -> str:
    return unescape(client.get("/account").get_data(as_text=True))


def _send(app, client, event):
    assert post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"]).status_code == 200


def test_non_member_is_invited_to_join(client, member):
    page = _page(client)
    assert "You're not a member yet" in page
    assert "Manage membership and card" not in page


def test_active_member_sees_amount_and_next_renewal(app, client, member):
    world = World()
    sub = world.subscription(
        "sub_1", "cus_1", "active", user_id=member.id, amount=855, period_end=1_795_000_000
    )  # 18 Nov 2026, 11:06 UTC
    _send(app, client, world.event("customer.subscription.created", sub))
    page = _page(client)
    assert "Member</strong>\n        — $8.55 / month" in page
    assert "Next renewal:" in page and "18 November 2026" in page
    assert 'action="/account/billing"' in page


def test_cancel_at_period_end_says_when_it_ends(app, client, member):
    world = World()
    sub = world.subscription(
        "sub_1",
        "cus_1",
        "active",
        user_id=member.id,
        cancel_at_period_end=True,
        period_end=1_795_000_000,
    )
    _send(app, client, world.event("customer.subscription.updated", sub))
    page = _page(client)
    assert "Cancels at the end of the period: your membership ends on" in page
    assert "Next renewal" not in page


def test_past_due_member_is_warned_with_a_way_to_fix_the_card(app, client, member):
    world = World()
    sub = world.subscription("sub_1", "cus_1", "past_due", user_id=member.id)
    _send(app, client, world.event("customer.subscription.updated", sub))
    page = _page(client)
    assert "Your last payment didn't go through." in page
    assert 'role="alert"' in page and "Manage membership and card" in page


def test_payment_history_shows_refunds(app, client, member):
    world = World()
    _send(
        app,
        client,
        world.event(
            "invoice.paid",
            world.invoice(
                "in_1",
                "sub_1",
                "cus_1",
                reason="subscription_create",
                user_id=member.id,
                amount=800,
            ),
        ),
    )
    _send(
        app,
        client,
        world.event(
            "checkout.session.completed",
            world.checkout(
                "cs_1", customer="cus_1", payment_intent="pi_2", amount=2500, user_id=member.id
            ),
        ),
    )
    _send(
        app,
        client,
        world.event(
            "charge.refunded",
            world.charge("ch_2", "pi_2", amount=2500, refunded=1000, user_id=member.id),
        ),
    )
    page = _page(client)
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "Membership (first payment)" in rows and "$8" in rows
    assert "One-time gift" in rows and "$25" in rows and "$10" in rows
    assert "(full)" not in rows
