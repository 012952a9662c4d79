"""A processed event that changed nothing says why in its ledger row (older, terminal, not a
membership), one by one and in the worker's batches alike, and staff see it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from donations.extensions import db
from donations.facts.facts import EventFact
from donations.models import Membership, StripeEvent
from donations.payments.ledger import receive, record, replay
from donations.payments.queue import work_batch
from tests.factories import login

INSTALLATION = "dours"


def _one_by_one(events: list[dict]) -> None:
    for e in events:
        fact = EventFact.from_payload(e, raw=json.dumps(e))
        receive(fact, livemode=False, installation=INSTALLATION)
        db.session.commit()


def _queued(events: list[dict]) -> None:
    for e in events:
        record(EventFact.from_payload(e, raw=json.dumps(e)))
    db.session.commit()
    while work_batch(livemode=False, installation=INSTALLATION, limit=50):
        db.session.commit()


def _created_then_an_older_update(world, sub_id: str, customer: str) -> tuple[dict, dict]:
    """A subscription's creation, applied, then an update older than it, applied too."""
    sub = world.subscription
    created = world.event("customer.subscription.created", sub(sub_id, customer, "active"))
    older = world.event(
        "customer.subscription.updated",
        sub(sub_id, customer, "past_due"),
        at=created["created"] - 1,
    )
    _one_by_one([created, older])
    return created, older


def _ledger() -> dict[str, tuple[str, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(StripeEvent))
    return {row.stripe_event_id: (row.status, row.no_effect) for row in rows}


@pytest.mark.parametrize("apply", [_one_by_one, _queued], ids=["one by one", "queued"])
def test_an_event_that_changed_nothing_records_why(app, db, world, apply):
    sub = world.subscription
    created = world.event("customer.subscription.created", sub("sub_a", "cus_a", "active"))
    ended = world.event("customer.subscription.deleted", sub("sub_b", "cus_b", "canceled"))
    apply([created, ended])
    # Older than what sub_a holds; after sub_b ended; weekly (no membership); and news.
    older = world.event(
        "customer.subscription.updated",
        sub("sub_a", "cus_a", "past_due"),
        at=created["created"] - 1,
    )
    after_end = world.event("customer.subscription.updated", sub("sub_b", "cus_b", "active"))
    weekly = world.event(
        "customer.subscription.created", sub("sub_w", "cus_w", "active", interval="week")
    )
    news = world.event("customer.subscription.created", sub("sub_c", "cus_c", "active"))
    apply([older, after_end, weekly, news])

    ledger = _ledger()
    assert ledger[older["id"]] == ("processed", "older")
    assert ledger[after_end["id"]] == ("processed", "terminal")
    assert ledger[weekly["id"]] == ("processed", "not_membership")
    assert ledger[news["id"]] == ledger[created["id"]] == ("processed", None)
    statuses = dict(
        db.session.execute(select(Membership.stripe_subscription_id, Membership.status)).all()
    )
    assert statuses == {"sub_a": "active", "sub_b": "canceled", "sub_c": "active"}


def test_a_replay_that_changes_something_clears_the_reason(app, db, world):
    sub = world.subscription
    later = world.event("customer.subscription.updated", sub("sub_a", "cus_a", "active"))
    earlier = world.event(
        "customer.subscription.created", sub("sub_a", "cus_a", "trialing"), at=later["created"] - 5
    )
    _one_by_one([later, earlier])
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.stripe_event_id == earlier["id"]))
    assert row.no_effect == "older"
    db.session.execute(select(Membership)).scalar_one().fact_at = None  # as if never applied
    db.session.commit()
    replay(earlier["id"], livemode=False, installation=INSTALLATION)
    assert row.no_effect is None and row.status == "processed"


def test_staff_see_why_an_event_changed_nothing(app, db, world, client, staff):
    created, older = _created_then_an_older_update(world, "sub_a", "cus_a")
    login(client, staff)
    listing = client.get("/staff/events").get_data(as_text=True)
    assert listing.count('data-stat="event-no-effect"') == 1
    assert "changed nothing: older" in listing
    page = client.get(f"/staff/events/{older['id']}").get_data(as_text=True)
    assert "older than a fact already applied to the same subscription" in page
    other = client.get(f"/staff/events/{created['id']}").get_data(as_text=True)
    assert "Changed nothing" not in other


def test_flask_stripe_replay_says_why_an_event_changed_nothing(app, db, world, runner):
    _created, older = _created_then_an_older_update(world, "sub_r", "cus_r")
    result = runner.invoke(args=["stripe", "replay", older["id"]])
    assert result.exit_code == 0, result.output
    assert f"{older['id']}: processed (changed nothing: older than a fact" in result.output
