"""One-time gifts: paid when the money moved, and recorded for guests without a customer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from donations.models import Donation, User
from tests.factories import make_user
from tests.payments.stripe_events import World

OPENED = 1_790_000_000  # the reader opened Checkout …
PAID = OPENED + 3 * 3600  # … and paid three hours later


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _completed(world: World, **kw) -> dict:
    session = world.checkout("cs_1", payment_intent="pi_1", **kw)
    assert session["created"] == OPENED
    return world.event("checkout.session.completed", session, at=PAID + 2)


def _charge(world: World, **kw) -> dict:
    charge = world.charge("ch_1", "pi_1", **kw)
    charge["created"] = PAID
    return world.event("charge.succeeded", charge, at=PAID + 1)


def test_a_gift_is_paid_when_checkout_completes_not_when_it_opened(db, world, send):
    send(_completed(world, customer="cus_1"))
    assert db.session.scalar(select(Donation.paid_at)) == _at(PAID + 2)


@pytest.mark.parametrize("charge_first", [True, False])
def test_the_charge_tells_the_exact_moment_in_either_order(db, world, send, charge_first):
    events = [_completed(world, customer="cus_1"), _charge(world, customer="cus_1")]
    for event in reversed(events) if charge_first else events:
        send(event)
    assert db.session.scalar(select(Donation.paid_at)) == _at(PAID)


@pytest.mark.parametrize("charge_first", [True, False])
def test_a_guest_gift_without_a_customer_is_recorded_and_linked_to_nobody(
    db, world, send, charge_first
):
    # customer_creation="if_required": a guest's gift has no Stripe customer.
    make_user(email="giver@example.org")  # same address, no proof: not linked
    events = [_completed(world, customer=None), _charge(world, customer=None)]
    for event in reversed(events) if charge_first else events:
        send(event)
    donation = db.session.scalar(select(Donation))
    assert (donation.kind, donation.amount, donation.user_id, donation.stripe_customer_id) == (
        "gift",
        1000,
        None,
        None,
    )
    assert donation.email == "giver@example.org"
    assert db.session.scalar(select(func.count()).select_from(User)) == 1  # nobody invented


def test_a_guest_gift_is_linked_by_the_account_checkout_names(db, world, send):
    user = make_user(email="someone@example.org")
    send(_completed(world, customer=None, user_id=user.id))
    assert db.session.scalar(select(Donation.user_id)) == user.id
