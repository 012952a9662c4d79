"""`flask stripe sync` repairs disputes whose webhooks were lost, as the webhook would have."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from donations.models import Donation, PaymentAdjustment, PendingDispute, utcnow
from donations.payments.account import WEBHOOK_EVENTS
from tests.factories import login, make_user, start_checkout
from tests.payments.stripe_events import World, post_event


def _gift(client, emulator, amount: str, attempt: str) -> str:
    """A gift paid through Checkout; its charge id."""
    session = start_checkout(client, amount=amount, attempt=attempt)
    emulator.pay_checkout(session, "4242424242424242", email=f"{attempt}@example.org")
    charges = emulator.list_objects("charge")
    return next(c["id"] for c in charges if c["amount"] == int(amount) * 100)


def _nets(db) -> list[tuple[int, int, bool]]:
    db.session.expire_all()
    donations = db.session.scalars(select(Donation))
    return sorted((d.amount, d.net_amount, d.disputed) for d in donations)


def test_sync_repairs_a_lost_dispute_and_a_partial_refund_to_the_cent(
    app, client, runner, db, emulator
):
    refunded = _gift(client, emulator, "25", "attempt-token-refunded-gift")
    disputed = _gift(client, emulator, "40", "attempt-token-disputed-gift")
    emulator.deliver_pending()
    emulator.set_drop_deliveries(True)
    emulator.refund(refunded, 1037)
    emulator.dispute(disputed, close_as="lost")
    emulator.deliver_pending()
    assert _nets(db) == [(2500, 2500, False), (4000, 4000, False)]

    dry = runner.invoke(args=["stripe", "sync", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "disputes_recorded 1" in dry.output and "disputes: 1 read" in dry.stderr
    assert _nets(db) == [(2500, 2500, False), (4000, 4000, False)]

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "disputes_recorded 1" in result.output and "refunds_updated 1" in result.output
    assert "new -> lost" in result.output
    assert _nets(db) == [(2500, 1463, False), (4000, 0, True)]
    assert (
        db.session.scalar(
            select(PaymentAdjustment.dispute_status).where(PaymentAdjustment.disputed.is_(True))
        )
        == "lost"
    )
    assert runner.invoke(args=["stripe", "sync"]).output.count("changed: nothing.") == 1


def test_sync_moves_a_dispute_on_to_the_status_stripe_has_now(app, client, runner, db, emulator):
    charge = _gift(client, emulator, "30", "attempt-token-won-gift")
    emulator.dispute(charge)
    emulator.deliver_pending()
    assert _nets(db) == [(3000, 0, True)]  # held while it is open
    emulator.set_drop_deliveries(True)
    emulator.dispute(charge, close_as="won")
    emulator.deliver_pending()

    result = runner.invoke(args=["stripe", "sync"])
    assert "disputes_updated 1" in result.output and "needs_response -> won" in result.output
    assert _nets(db) == [(3000, 3000, True)]


def test_sync_reads_disputes_of_the_last_days_only(app, client, runner, db, emulator):
    charge = _gift(client, emulator, "30", "attempt-token-old-dispute")
    emulator.deliver_pending()
    emulator.set_drop_deliveries(True)
    emulator.dispute(charge, close_as="lost")
    with time_machine.travel(utcnow() + timedelta(days=10)):
        narrow = runner.invoke(args=["stripe", "sync", "--days", "5"])
        assert "disputes: " not in narrow.stderr and "disputes_" not in narrow.output
        assert _nets(db) == [(3000, 3000, False)]
        wide = runner.invoke(args=["stripe", "sync", "--days", "30"])
    assert "disputes_recorded 1" in wide.output
    assert _nets(db) == [(3000, 0, True)]


def test_sync_links_a_dispute_that_waited_for_a_charge_whose_webhook_was_lost(
    app, client, runner, db, emulator
):
    login(client, make_user(email="member.disputed@example.org"))
    emulator.set_drop_deliveries(True)
    emulator.pay_checkout(start_checkout(client, interval="month", amount="8"), "4242424242424242")
    emulator.set_drop_deliveries(False)
    for event in emulator.events():  # everything arrives but the charge's own events
        if event["type"] in WEBHOOK_EVENTS and not event["type"].startswith("charge."):
            emulator.resend(event["id"])
    emulator.deliver_pending()
    (charge,) = emulator.list_objects("charge")
    # A dispute naming only the charge (no payment intent) reaches us: it waits for the charge.
    world = World()
    event = world.event(
        "charge.dispute.closed", world.dispute("dp_waiting", charge["id"], None, "lost", 800)
    )
    assert post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"]).status_code == 200
    assert db.session.scalar(select(PendingDispute.stripe_charge_id)) == charge["id"]
    assert _nets(db) == [(800, 800, False)]

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "disputes_linked 1" in result.output
    assert _nets(db) == [(800, 0, True)]
    assert db.session.scalar(select(PendingDispute.id)) is None
