"""WEBHOOK_QUEUE=1: the endpoint only stores verified events; `flask webhooks work` applies them,
exactly once, in any order, with failures kept for replay (design notes §8)."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.membership.progress import get_progress, recount_members
from donations.models import MemberChange, Membership, StripeEvent, utcnow
from donations.payments import ledger
from donations.payments.queue import webhook_backlog, work
from tests.factories import CHAOS_SEEDS, login, make_user, run_queue_workers, start_checkout
from tests.payments.stripe_events import World, post_event


@pytest.fixture
def delivery():
    return {"WEBHOOK_QUEUE": "1"}


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _send(app, client, event, status=200):
    response = post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def _work(app) -> int:
    done = work(
        livemode=not app.config["STRIPE_TEST_MODE"],
        installation=app.config["INSTALLATION_TAG"],
        stop=lambda: False,
        once=True,
    )
    db.session.expire_all()
    return done


def _life_of_a_subscription(world: World, user_id: int) -> list[dict]:
    """Created, active, cancelled: in this order Stripe sent them."""
    return [
        world.event(
            "customer.subscription.created",
            world.subscription("sub_1", "cus_1", "incomplete", user_id=user_id),
        ),
        world.event(
            "customer.subscription.updated",
            world.subscription("sub_1", "cus_1", "active", user_id=user_id),
        ),
        world.event(
            "customer.subscription.deleted",
            world.subscription("sub_1", "cus_1", "canceled", user_id=user_id),
        ),
    ]


def test_the_endpoint_stores_the_event_and_the_worker_applies_it(app, client, db, world):
    user = make_user()
    event = world.event(
        "customer.subscription.created",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    assert _send(app, client, event) == {"received": True, "status": "queued", "duplicate": False}
    assert _count(Membership) == 0 and webhook_backlog(utcnow()).pending == 1
    assert _send(app, client, event)["duplicate"] is True
    assert _work(app) == 1
    row = db.session.scalar(select(StripeEvent))
    assert (row.status, row.attempts) == ("processed", 1)
    assert _count(Membership) == 1 and get_progress().members == 1 == recount_members()
    assert webhook_backlog(utcnow()).pending == 0 and _work(app) == 0


@pytest.mark.parametrize("seed", CHAOS_SEEDS)
def test_duplicates_in_any_order_take_effect_once(app, client, db, world, seed):
    user = make_user()
    events = _life_of_a_subscription(world, user.id)
    deliveries = events + random.Random(seed).sample(events, 2)  # some come twice
    random.Random(seed).shuffle(deliveries)
    for event in deliveries:
        _send(app, client, event)
    assert _work(app) == 3
    membership = db.session.scalar(select(Membership))
    assert membership.status == "canceled"
    assert get_progress().members == 0 == recount_members()
    assert _count(StripeEvent, StripeEvent.attempts != 1) == 0  # nothing processed twice
    # Every member change has its counterpart: joined once and left once, or never joined.
    assert _count(MemberChange) in (0, 2)


def test_a_failed_event_is_kept_with_its_error_and_retried_when_stripe_resends_it(
    app, client, db, world, monkeypatch
):
    user = make_user()
    event = world.event(
        "customer.subscription.created",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    _send(app, client, event)

    def broken(fact, at):
        raise RuntimeError("database hiccup")

    with monkeypatch.context() as patch:
        patch.setitem(ledger.HANDLERS, "customer.subscription.created", broken)
        assert [o.status for o in _one_batch(app)] == ["failed"]
    row = db.session.scalar(select(StripeEvent))
    assert (row.status, row.error) == ("failed", "RuntimeError: database hiccup")
    assert _count(Membership) == 0 and webhook_backlog(utcnow()).pending == 0
    assert _work(app) == 0  # retried later (RETRY_AFTER), not in a tight loop

    # Stripe's own retry of the event puts it back in the queue.
    assert _send(app, client, event)["duplicate"] is False
    assert webhook_backlog(utcnow()).pending == 1
    assert _work(app) == 1
    assert _count(Membership) == 1 and get_progress().members == 1
    assert db.session.scalar(select(StripeEvent.attempts)) == 2


def test_a_failed_event_can_be_replayed_by_hand(app, client, db, world, runner, monkeypatch):
    user = make_user()
    event = world.event(
        "customer.subscription.created",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    _send(app, client, event)
    with monkeypatch.context() as patch:
        patch.setitem(ledger.HANDLERS, "customer.subscription.created", _raise)
        _one_batch(app)
    result = runner.invoke(args=["stripe", "replay", event["id"]])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _count(Membership) == 1 and get_progress().members == 1


def _raise(fact, at):
    raise RuntimeError("broken")


def _one_batch(app):
    from donations.payments.queue import work_batch

    outcomes = work_batch(
        livemode=not app.config["STRIPE_TEST_MODE"], installation=app.config["INSTALLATION_TAG"]
    )
    db.session.commit()
    db.session.expire_all()
    return outcomes


def test_the_backlog_says_how_many_wait_and_for_how_long(app, client, db, world, runner):
    empty = webhook_backlog(utcnow())
    assert empty.pending == 0 and empty.oldest_pending_seconds is None
    user = make_user()
    for event in _life_of_a_subscription(world, user.id):
        _send(app, client, event)
    time.sleep(0.05)
    backlog = webhook_backlog(utcnow())
    assert backlog.pending == 3 and backlog.oldest_pending_seconds > 0
    result = runner.invoke(args=["webhooks", "backlog"])
    assert result.output.startswith("3 events waiting; oldest ")
    result = runner.invoke(args=["webhooks", "work", "--once"])
    assert result.exit_code == 0 and "3 events processed." in result.output


@pytest.mark.postgres_only  # SKIP LOCKED between workers
def test_two_workers_never_take_the_same_event(app, client, db, world):
    users = [make_user() for _ in range(60)]
    for n, user in enumerate(users):
        sub = world.subscription(f"sub_{n}", f"cus_{n}", "active", user_id=user.id)
        _send(app, client, world.event("customer.subscription.created", sub))
    done = run_queue_workers(app, batch=5, timeout=60)
    db.session.expire_all()
    assert sum(done) == 60 and all(done), done  # both worked, and no event twice
    assert _count(StripeEvent, StripeEvent.attempts != 1) == 0
    assert get_progress().members == 60 == recount_members()


def test_the_thanks_page_confirms_within_two_seconds_with_a_worker_running(
    app, client, db, emulator
):
    login(client, make_user())
    session_id = start_checkout(client, interval="month", amount="8")
    emulator.pay_checkout(session_id, "4242424242424242")
    assert emulator.deliver_pending() == 6  # stored, not yet applied
    thanks = f"/support/thanks?session_id={session_id}"
    assert "Confirming your payment" in client.get(thanks).get_data(as_text=True)
    stopping: list[bool] = []

    def worker() -> None:
        with app.app_context():
            work(
                livemode=not app.config["STRIPE_TEST_MODE"],
                installation=app.config["INSTALLATION_TAG"],
                stop=lambda: bool(stopping),
            )
            db.session.remove()

    started = time.monotonic()
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        while "is confirmed" not in client.get(thanks).get_data(as_text=True):
            assert time.monotonic() - started < 2, "not confirmed within 2 s"
            time.sleep(0.1)
    finally:
        stopping.append(True)
        thread.join(timeout=10)
    db.session.expire_all()
    assert get_progress().members == 1 == recount_members()
