"""The chaos property on the emulator's own histories, whose clock moves as Stripe's does.

Renewals, retries days apart and each dunning outcome (paused, unpaid, canceled, left past
due, recovered), for several members: delivered by the emulator's chaotic mode to the real
webhook endpoint, and then, as captured, in any order and with repeats (hypothesis), inline
and through the worker's batches. The records must end as the emulator's subscriptions are,
with the member count equal to a recount by the design's rule after every single event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from donations.extensions import db as _db
from donations.facts.facts import EventFact
from donations.models import Membership
from donations.payments.ledger import receive, record
from donations.payments.queue import work_batch
from stripe_emulator import Emulator
from tests.factories import CHAOS_SEEDS, chaos
from tests.payments.design_rule import assert_counted_by_the_design
from tests.payments.emulated import emulated_member
from tests.payments.records_snapshot import reset_records

Transport = Callable[[str, bytes, dict[str, str], float], int]


def _dunning(emulator: Emulator) -> dict[str, str]:
    """Every dunning outcome, one member each; the emulator's final status per subscription."""
    subs = [emulated_member(emulator, f"member{n}@example.org") for n in range(6)]
    emulator.renew(subs[0], fail=True, retries=2, final_status="paused")
    emulator.renew(subs[1], fail=True, retries=1, final_status="unpaid")
    emulator.renew(subs[2], fail=True)
    emulator.renew(subs[2])  # the retry pays
    emulator.renew(subs[3])
    emulator.cancel(subs[3], at_period_end=True)
    emulator.advance_past_period_end(subs[3])
    emulator.renew(subs[4], fail=True, retries=1, final_status="canceled")
    emulator.renew(subs[5], fail=True, retries=3, final_status="past_due")
    return {sub: emulator.get(sub)["status"] for sub in subs}  # type: ignore[index]


def _statuses() -> dict[str, str]:
    _db.session.expire_all()
    query = select(Membership.stripe_subscription_id, Membership.status)
    return {row.stripe_subscription_id: row.status for row in _db.session.execute(query)}


def _agrees_with_a_recount() -> None:
    assert_counted_by_the_design()


@pytest.mark.parametrize("seed", CHAOS_SEEDS, ids=lambda seed: f"chaos-{seed}")
def test_chaotic_delivery_of_every_dunning_outcome_ends_as_stripe_does(make_app, seed):
    app = make_app(**chaos(seed))
    with app.app_context():
        emulator: Emulator = app.extensions["stripe_emulator"]
        webhooks = app.test_client()

        def transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
            answer = webhooks.post("/stripe/webhook", data=body, headers=headers)
            answer.close()
            return answer.status_code

        emulator.deliverer.transport = transport
        expected = _dunning(emulator)
        emulator.deliver_pending(timeout=30)
        assert emulator.store.next_due() is None  # nothing left to deliver
        assert sorted(expected.values()) == sorted(
            ["paused", "unpaid", "active", "canceled", "canceled", "past_due"]
        )
        assert _statuses() == expected
        _agrees_with_a_recount()


@pytest.fixture
def history(app, emulator: Emulator) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The payloads our endpoint receives for every dunning outcome, and the final statuses."""
    payloads: list[dict[str, Any]] = []

    def capture(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        payloads.append(json.loads(body))
        return 200

    emulator.deliverer.transport = capture
    expected = _dunning(emulator)
    emulator.deliver_pending()
    return payloads, expected


def _apply(events: list[dict[str, Any]], installation: str) -> None:
    for event in events:
        fact = EventFact.from_payload(event, raw=json.dumps(event))
        assert receive(fact, livemode=False, installation=installation).status == "processed"
        _db.session.commit()
        _agrees_with_a_recount()


def _apply_queued(events: list[dict[str, Any]], installation: str, batch: int) -> None:
    for event in events:
        record(EventFact.from_payload(event, raw=json.dumps(event)))
    _db.session.commit()
    while work_batch(livemode=False, installation=installation, limit=batch):
        _db.session.commit()
        _agrees_with_a_recount()


@settings(
    max_examples=10,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_order_of_the_emulators_dunning_ends_as_stripe_does(app, db, history, data):
    events, expected = history
    installation = app.config["INSTALLATION_TAG"]
    order = data.draw(st.permutations(events), label="order")
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=5), label="repeats")
    reset_records()
    _apply(order, installation)
    for event in repeats:  # Stripe delivers at least once
        fact = EventFact.from_payload(event, raw=json.dumps(event))
        assert receive(fact, livemode=False, installation=installation).duplicate
    assert _statuses() == expected

    reset_records()
    _apply_queued(order + repeats, installation, data.draw(st.integers(2, 8), label="batch"))
    assert _statuses() == expected
