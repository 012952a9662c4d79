"""The whole supporter flow in-process: checkout → emulator pays → signed webhooks → records."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from donations.membership.progress import get_progress, recount_members
from donations.models import CheckoutAttempt, Donation, Membership, StripeEvent, User
from tests.factories import (
    CHAOS_SEEDS,
    chaos,
    login,
    make_article,
    make_user,
    pay_membership,
    start_checkout,
)


@pytest.fixture(params=CHAOS_SEEDS, ids=lambda seed: f"chaos-{seed}")
def delivery(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every test here runs under Stripe's real delivery: any order, duplicates, at once."""
    return chaos(request.param)


def test_membership_is_recorded_counted_and_confirmed(client, db, emulator, delivery):
    make_article(slug="kalvesk")
    assert (emulator.deliverer.mode, emulator.deliverer.seed) == (
        "chaos",
        delivery["STRIPE_EMULATOR_SEED"],
    )
    user = make_user(email="new.member@example.org")
    login(client, user)
    session_id = start_checkout(
        client, interval="month", amount="8", cover_fee="1", article="kalvesk"
    )
    thanks = client.get(f"/support/thanks?session_id={session_id}").get_data(as_text=True)
    assert "Confirming your payment" in thanks and 'http-equiv="refresh"' in thanks

    redirect_url = emulator.pay_checkout(session_id, "4242424242424242")
    assert redirect_url == f"http://localhost/support/thanks?session_id={session_id}"
    # Stripe emits 12 events for a subscription through Checkout (shared/stripe-behaviour.md);
    # our endpoint subscribes only to the ones our handlers use (set up at start, as
    # `flask stripe setup` does), so the others are stored at Stripe and delivered nowhere.
    assert emulator.deliver_pending() == 6
    assert emulator.events("customer.created") and emulator.events("invoice.finalized")

    ledger = dict(db.session.execute(select(StripeEvent.type, StripeEvent.status)).all())
    assert ledger == {
        "customer.subscription.created": "processed",  # incomplete: not a member yet
        "charge.succeeded": "processed",  # a membership charge: its invoice records it
        "invoice.paid": "processed",
        "invoice_payment.paid": "processed",  # the payment intent of the membership payment
        "customer.subscription.updated": "processed",  # incomplete -> active
        "checkout.session.completed": "processed",
    }
    membership = db.session.scalar(select(Membership))
    assert (membership.user_id, membership.status, membership.interval) == (
        user.id,
        "active",
        "month",
    )
    assert membership.amount == 855  # $8 + (800 + 30) / 0.971 - 800 = 55 cents fee
    assert membership.source_article == "kalvesk"
    assert membership.current_period_end is not None
    donation = db.session.scalar(select(Donation))
    assert (donation.kind, donation.amount, donation.fee_amount, donation.user_id) == (
        "membership_first",
        855,
        55,
        user.id,
    )
    assert donation.stripe_payment_intent_id and donation.stripe_invoice_id
    assert get_progress().members == 1 == recount_members()
    thanks = client.get(f"/support/thanks?session_id={session_id}").get_data(as_text=True)
    assert "Your membership of $8.55 / month is confirmed" in thanks
    assert 'http-equiv="refresh"' not in thanks


def test_anonymous_gift_is_recorded_without_inventing_a_supporter(client, db, emulator):
    make_article(slug="school-profile")
    session_id = start_checkout(client, amount="25", article="school-profile")
    emulator.pay_checkout(session_id, "4242424242424242", email="giver@example.org")
    emulator.deliver_pending()
    donation = db.session.scalar(select(Donation))
    assert (donation.kind, donation.amount, donation.currency) == ("gift", 2500, "usd")
    assert donation.email == "giver@example.org"
    assert donation.source_article == "school-profile"
    # customer_creation="if_required": a guest's gift makes no Stripe customer, so no
    # Stripe-only supporter either; the gift is kept by its payment intent.
    assert (donation.user_id, donation.stripe_customer_id) == (None, None)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert db.session.scalar(select(CheckoutAttempt.status)) == "complete"
    assert get_progress().members == 0


def test_declined_card_records_nothing(client, db, emulator):
    from stripe_emulator import CardDeclined

    session_id = start_checkout(client)
    try:
        emulator.pay_checkout(session_id, "4000000000000002", email="x@example.org")
    except CardDeclined as exc:
        assert "declined" in str(exc)
    else:
        raise AssertionError("the test card 4000…0002 must be declined")
    emulator.deliver_pending()
    assert db.session.scalar(select(func.count()).select_from(Donation)) == 0
    assert db.session.scalar(select(CheckoutAttempt.status)) == "open"


def test_billing_portal_is_for_members_only(client, db, emulator):
    login(client, make_user())
    response = client.post("/account/billing")
    assert response.status_code == 303 and response.headers["Location"] == "/account"


def _delivered_payloads(emulator) -> list[dict[str, Any]]:
    """Record every payload the emulator delivers to the app, and still deliver it."""
    seen: list[dict[str, Any]] = []
    inner = emulator.deliverer.transport

    def transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        seen.append(json.loads(body))
        return inner(url, body, headers, timeout)

    emulator.deliverer.transport = transport
    return seen


def _stat(html: str, name: str) -> str:
    (value,) = re.findall(rf'data-stat="{name}">([^<]*)<', html)
    return value


def test_a_refunded_membership_payment_shows_its_net_to_staff(client, db, emulator):
    payloads = _delivered_payloads(emulator)
    member = make_user(email="refunded.member@example.org")
    login(client, member)
    pay_membership(client, emulator)
    # One client: the app context the fixture holds keeps Flask-Login's user in `g`.
    client.post("/logout")
    staff = client
    login(staff, make_user(email="desk@example.org", is_staff=True))
    (charge,) = emulator.list_objects("charge")

    for amount, net in ((300, "$5"), (None, "$0")):  # in part, then the rest
        emulator.refund(charge["id"], amount)
        emulator.deliver_pending()
        page = staff.get(f"/staff/members/{member.id}").get_data(as_text=True)
        assert _stat(page, "donation-net") == net
        board = staff.get("/staff/").get_data(as_text=True)
        assert _stat(board, "payments-count-usd") == "1"
        assert _stat(board, "payments-net-usd") == net

    types = {p["type"] for p in payloads}
    assert {"invoice.paid", "invoice_payment.paid", "refund.created", "charge.refunded"} <= types
    # Stripe never puts the expandable invoice.payments in a webhook (design §8).
    invoices = [p["data"]["object"] for p in payloads if p["data"]["object"]["object"] == "invoice"]
    assert invoices and all("payments" not in invoice for invoice in invoices)
    assert all("refunds" not in p["data"]["object"] for p in payloads)
