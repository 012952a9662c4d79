"""Facts of one subscription stamped with the same second: which one is the later?

Stripe's `created` has whole seconds, so two updates of one subscription can tie. An update
says what the subscription was just before it (`data.previous_attributes`): a fact whose
state before is ours comes after ours, and a fact that is the state ours came from comes
before it. Only when they don't tell does the rank of the status decide, and `paused` ranks
above `past_due`: Stripe pauses a past-due subscription after its last retry, never the
other way round in one moment. Inline and through the worker's batches alike.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from donations.extensions import db as _db
from donations.facts.facts import EventFact
from donations.membership.progress import get_progress, recount_members
from donations.models import Membership
from donations.payments.ledger import record
from donations.payments.queue import work_batch
from tests.factories import make_user
from tests.payments.stripe_events import PERIOD_END, World

AT = 1_790_000_000
MONTH = 30 * 86400


def _apply(app, send, events: list[dict], path: str) -> str:
    """Apply events in this order (inline, or stored and then worked in one batch)."""
    if path == "inline":
        for event in events:
            send(event)
    else:
        for event in events:
            record(EventFact.from_payload(event, raw=json.dumps(event)))
        _db.session.commit()
        work_batch(livemode=False, installation=app.config["INSTALLATION_TAG"])
        _db.session.commit()
    _db.session.expire_all()
    assert get_progress().members == recount_members()
    return _db.session.scalar(select(Membership.status))


def _items(sub: dict) -> dict:
    """An update's previous_attributes for a new period: the items' data array, whole."""
    return {"data": sub["items"]["data"]}


@pytest.fixture(params=["inline", "queued"])
def path(request) -> str:
    """Inline in the webhook request, or by `flask webhooks work` (WEBHOOK_QUEUE=1)."""
    return request.param


@pytest.fixture
def sub(world: World):
    user = make_user()

    def sub(status: str, **kw) -> dict:
        return world.subscription("sub_1", "cus_1", status, user_id=user.id, **kw)

    return sub


@pytest.mark.parametrize("paused_first", [True, False], ids=["paused-first", "past-due-first"])
def test_paused_and_past_due_in_the_same_second_end_paused(
    app, db, world, send, sub, path, paused_first
):
    # Neither event says what came before: the rank decides.
    paused = world.event("customer.subscription.updated", sub("paused"), at=AT)
    past_due = world.event("customer.subscription.updated", sub("past_due"), at=AT)
    order = [paused, past_due] if paused_first else [past_due, paused]
    assert _apply(app, send, order, path) == "paused"


def _dunning_ends_paused(world, sub) -> tuple[list[dict], str]:
    """The last retry fails (past_due a moment ago, in the same second) and Stripe pauses it."""
    return [
        world.event(
            "customer.subscription.updated", sub("past_due"), at=AT, previous={"status": "active"}
        ),
        world.event(
            "customer.subscription.updated",
            sub("paused"),
            at=AT,
            previous={"status": "past_due", "status_details": None},
        ),
    ], "paused"


def _resumed_and_failed(world, sub) -> tuple[list[dict], str]:
    """A paused subscription is resumed on a new period, and the resumption invoice fails."""
    old = sub("paused")
    return [
        world.event("customer.subscription.updated", old, at=AT, previous={"status": "past_due"}),
        world.event(
            "customer.subscription.updated",
            sub("past_due", period_end=PERIOD_END + MONTH),
            at=AT,
            previous={"status": "paused", "items": _items(old)},
        ),
    ], "past_due"


def _paid_after_the_last_retry(world, sub) -> tuple[list[dict], str]:
    """The last retry fails (unpaid), and in the same second the member pays the invoice."""
    return [
        world.event(
            "customer.subscription.updated", sub("unpaid"), at=AT, previous={"status": "past_due"}
        ),
        world.event(
            "customer.subscription.updated", sub("active"), at=AT, previous={"status": "unpaid"}
        ),
    ], "active"


@pytest.mark.parametrize("reverse", [False, True], ids=["as-happened", "reversed"])
@pytest.mark.parametrize(
    "history", [_dunning_ends_paused, _resumed_and_failed, _paid_after_the_last_retry]
)
def test_previous_attributes_put_same_second_facts_in_order(
    app, db, world, send, sub, path, history, reverse
):
    events, last = history(world, sub)
    assert _apply(app, send, events[::-1] if reverse else events, path) == last


def test_a_later_second_wins_whatever_previous_attributes_say(app, db, world, send, sub, path):
    events = [
        world.event("customer.subscription.updated", sub("active"), at=AT + 1),
        world.event(
            "customer.subscription.updated", sub("canceled"), at=AT, previous={"status": "active"}
        ),
    ]
    assert _apply(app, send, events, path) == "active"
