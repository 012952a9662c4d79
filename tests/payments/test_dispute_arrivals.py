"""Disputes as they may arrive: in a status this version does not know, or before the charge
they name (a dispute's payment_intent may be null: Stripe's own example dispute has none).

Neither may fail the event (Stripe would retry it for three days) or be dropped: an unknown
status holds the money back like an open dispute; a dispute that names only its charge waits
until an event tells which payment the charge belongs to, in whatever order they come.
"""

from __future__ import annotations

import itertools
import json
import logging
from datetime import UTC, datetime

from sqlalchemy import func, select

from donations.extensions import db as _db
from donations.facts.facts import EventFact
from donations.models import Donation, PaymentAdjustment, PendingDispute, StripeEvent
from donations.models.statuses import dispute_fact_wins, dispute_withholds_funds
from donations.payments.ledger import receive
from tests.factories import make_user
from tests.payments.records_snapshot import reset_records
from tests.payments.stripe_events import World

GIFT = 2500
DUES = 800


def _receive(event: dict) -> str:
    fact = EventFact.from_payload(event, raw=json.dumps(event))
    outcome = receive(fact, livemode=False, installation="dours")
    _db.session.commit()
    return outcome.status


def _donation() -> Donation:
    _db.session.expire_all()
    (donation,) = _db.session.scalars(select(Donation))
    return donation


def _gift(world: World) -> list[dict]:
    return [
        world.event(
            "checkout.session.completed",
            world.checkout("cs_1", customer="cus_1", payment_intent="pi_1", amount=GIFT),
        ),
        world.event("charge.succeeded", world.charge("ch_1", "pi_1", amount=GIFT)),
    ]


def test_an_unknown_dispute_status_is_held_logged_and_processed(db, world, send, caplog):
    for event in _gift(world):
        send(event)
    caplog.set_level(logging.WARNING, logger="donations.membership.adjustments")
    unknown = world.dispute("dp_1", "ch_1", "pi_1", "arbitration_under_review", GIFT)
    answer = send(world.event("charge.dispute.updated", unknown))
    assert answer.get_json()["status"] == "processed"
    assert "arbitration_under_review" in caplog.text
    donation = _donation()
    assert (donation.disputed, donation.amount_disputed, donation.net_amount) == (True, GIFT, 0)
    assert db.session.scalar(select(PaymentAdjustment.dispute_status)) == "arbitration_under_review"
    send(world.event("charge.dispute.closed", world.dispute("dp_1", "ch_1", "pi_1", "won", GIFT)))
    assert _donation().net_amount == GIFT  # a known outcome after it still decides


def test_a_dispute_that_names_nothing_we_can_match_is_processed_and_changes_nothing(
    db, world, send
):
    for event in _gift(world):
        send(event)
    orphan = world.dispute("dp_1", "ch_1", None, "lost", GIFT)
    orphan["charge"] = None
    assert send(world.event("charge.dispute.closed", orphan)).get_json()["status"] == "processed"
    assert _donation().net_amount == GIFT


def _check_every_order(events: list[dict], expected_net: int) -> None:
    for order in itertools.permutations(events):
        reset_records()
        assert [_receive(event) for event in order] == ["processed"] * len(order)
        donation = _donation()
        assert (donation.disputed, donation.net_amount) == (True, expected_net), [
            e["type"] for e in order
        ]
        assert _db.session.scalar(select(func.count()).select_from(PendingDispute)) == 0


def test_a_gifts_dispute_naming_only_the_charge_is_kept_until_the_charge_tells_its_payment(
    app, db, world
):
    # Before and after the charge and the Checkout Session, opened and lost in either order.
    events = _gift(world) + [
        world.event(
            f"charge.dispute.{kind}", world.dispute("dp_1", "ch_1", None, status, amount=1000)
        )
        for kind, status in (("created", "needs_response"), ("closed", "lost"))
    ]
    _check_every_order(events, GIFT - 1000)
    assert _db.session.scalar(select(PaymentAdjustment.dispute_status)) == "lost"


def test_a_membership_payments_dispute_naming_only_the_charge_finds_its_payment(app, db, world):
    user = make_user()
    events = [
        world.event(
            "invoice.paid",
            world.invoice("in_1", "sub_1", "cus_1", reason="subscription_create", user_id=user.id),
        ),
        world.event("invoice_payment.paid", world.invoice_payment("in_1", "pi_1")),
        world.event("charge.succeeded", world.charge("ch_1", "pi_1", amount=DUES, gift=False)),
        world.event("charge.dispute.closed", world.dispute("dp_1", "ch_1", None, "lost", DUES)),
    ]
    _check_every_order(events, 0)
    assert _donation().stripe_invoice_id == "in_1"


def test_a_waiting_dispute_keeps_its_newest_fact(app, db, world):
    closed = world.event("charge.dispute.closed", world.dispute("dp_1", "ch_1", None, "lost"))
    opened = world.event(
        "charge.dispute.created", world.dispute("dp_1", "ch_1", None, "needs_response")
    )
    for event in (closed, opened):  # the older one last
        assert _receive(event) == "processed"
    waiting = _db.session.scalar(select(PendingDispute))
    assert (waiting.stripe_charge_id, waiting.status) == ("ch_1", "lost")
    assert _db.session.scalar(select(func.count()).select_from(PaymentAdjustment)) == 0
    events = _db.session.scalars(select(StripeEvent.status))
    assert set(events) == {"processed"}


def test_an_unknown_status_is_an_open_dispute_in_the_ordering_rules():
    at, later = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    assert dispute_withholds_funds("arbitration_under_review") is True
    # A closed outcome replaces it, older or newer; it does not reopen a closed dispute.
    assert dispute_fact_wins("arbitration_under_review", later, "lost", at) is True
    assert dispute_fact_wins("won", at, "arbitration_under_review", later) is False
    # Among open statuses, the newer fact wins either way.
    assert dispute_fact_wins("needs_response", at, "arbitration_under_review", later) is True
    assert dispute_fact_wins("arbitration_under_review", later, "needs_response", at) is False
