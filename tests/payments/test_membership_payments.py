"""Membership payments: invoices of subscriptions, their payment intents, and their refunds.

In the current API an invoice does not name its payment intent and `invoice.payments` is
never in a webhook; `invoice_payment.paid` names it, in any order with `invoice.paid`.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from donations.models import Donation, FailedPayment, User
from tests.factories import make_user
from tests.payments.layouts import old_invoice, old_subscription


def _donations(db):
    return db.session.execute(
        select(
            Donation.kind,
            Donation.stripe_invoice_id,
            Donation.stripe_payment_intent_id,
            Donation.user_id,
            Donation.amount,
        ).order_by(Donation.stripe_invoice_id)
    ).all()


def test_invoice_paid_records_first_and_renewal_payments(db, world, send):
    user = make_user()
    first = world.invoice("in_1", "sub_1", "cus_1", reason="subscription_create", user_id=user.id)
    renewal = world.invoice("in_2", "sub_1", "cus_1", user_id=user.id)
    send(world.event("invoice.paid", first))
    send(world.event("invoice_payment.paid", world.invoice_payment("in_1", "pi_1")))
    send(world.event("invoice.paid", renewal))
    send(world.event("invoice_payment.paid", world.invoice_payment("in_2", "pi_2")))
    assert _donations(db) == [
        ("membership_first", "in_1", "pi_1", user.id, 800),
        ("membership_renewal", "in_2", "pi_2", user.id, 800),
    ]


@pytest.mark.parametrize("payment_first", [True, False], ids=["payment-first", "invoice-first"])
def test_the_payment_intent_comes_from_invoice_payment_paid_in_either_order(
    db, world, send, payment_first
):
    events = [
        world.event("invoice.paid", world.invoice("in_1", "sub_1", "cus_1")),
        world.event("invoice_payment.paid", world.invoice_payment("in_1", "pi_1")),
    ]
    for event in reversed(events) if payment_first else events:
        send(event)
    assert [(r.stripe_payment_intent_id, r.kind) for r in _donations(db)] == [
        ("pi_1", "membership_renewal")
    ]


def test_a_payments_list_in_an_invoice_webhook_is_not_read(db, world, send):
    # Stripe never sends it; if something did, it must not stand in for invoice_payment.paid.
    invoice = world.invoice("in_1", "sub_1", "cus_1")
    invoice["payments"] = {"object": "list", "data": [world.invoice_payment("in_1", "pi_x")]}
    send(world.event("invoice.paid", invoice))
    assert [r.stripe_payment_intent_id for r in _donations(db)] == [None]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_refund_of_a_membership_payment_applies_in_any_order(db, world, send, order):
    events = [
        world.event("invoice.paid", world.invoice("in_1", "sub_1", "cus_1")),
        world.event("invoice_payment.paid", world.invoice_payment("in_1", "pi_1")),
        world.event(
            "charge.refunded", world.charge("ch_1", "pi_1", amount=800, refunded=300, gift=False)
        ),
    ]
    for index in order:
        send(events[index])
    donation = db.session.scalar(select(Donation))
    assert (donation.kind, donation.amount_refunded, donation.net_amount) == (
        "membership_renewal",
        300,
        500,
    )


def test_a_one_off_dashboard_invoice_is_not_a_membership_payment(db, world, send):
    invoice = world.invoice("in_manual", "sub_x", "cus_1", reason="manual")
    invoice["parent"] = None  # made in the Dashboard: no subscription behind it
    send(world.event("invoice.paid", invoice))
    send(world.event("invoice_payment.paid", world.invoice_payment("in_manual", "pi_manual")))
    failed = world.invoice("in_manual_2", "sub_x", "cus_1", reason="manual", paid=False)
    failed["parent"] = None
    send(world.event("invoice.payment_failed", failed))
    assert db.session.scalar(select(func.count()).select_from(Donation)) == 0
    assert db.session.scalar(select(func.count()).select_from(FailedPayment)) == 0


def test_an_old_layout_invoice_names_its_payment_intent_itself(db, world, send):
    invoice = old_invoice(world.invoice("in_1", "sub_1", "cus_1"), payment_intent="pi_1")
    send(world.event("invoice.paid", invoice))
    assert [r.stripe_payment_intent_id for r in _donations(db)] == ["pi_1"]


@pytest.mark.parametrize("invoice_first", [True, False], ids=["invoice-first", "sub-first"])
def test_an_old_invoice_without_metadata_reaches_the_member_through_the_subscription(
    db, world, send, invoice_first
):
    user = make_user()
    sub = old_subscription(world.subscription("sub_1", "cus_1", "active", user_id=user.id))
    invoice = old_invoice(
        world.invoice("in_1", "sub_1", "cus_1", user_id=user.id),
        payment_intent="pi_1",
        with_metadata=False,
    )
    events = [
        world.event("invoice.paid", invoice),
        world.event("customer.subscription.created", sub),
    ]
    for event in events if invoice_first else reversed(events):
        send(event)
    assert _donations(db) == [("membership_renewal", "in_1", "pi_1", user.id, 800)]
    # Nobody was invented for the customer: it belongs to the account the subscription names.
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
