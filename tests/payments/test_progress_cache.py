"""The cached progress: every path that moves the member count lets go of the cached number
when its transaction commits, and app servers sharing a database and Redis agree within
CACHE_SECONDS."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine

from donations.extensions import db as _db
from donations.membership.progress import get_progress, move_counter, recount_members
from tests.conftest import REDIS_TEST_URL
from tests.factories import login, make_user, pay_membership
from tests.payments.stripe_events import post_event

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture
def delivery():
    # An hour: a test that sees the new number at once proves the invalidation, not expiry.
    return {"CACHE_SECONDS": 3600}


def _members() -> int:
    count = get_progress().members
    assert count == recount_members()
    return count


def _subscription_event(world, user, status="active", **kwargs):
    sub = world.subscription("sub_1", "cus_1", status, user_id=user.id, **kwargs)
    return world.event("customer.subscription.updated", sub)


def test_a_webhook_that_makes_a_member_moves_the_cached_count_at_once(app, client, db, world):
    user = make_user()
    assert _members() == 0  # now cached for an hour
    response = post_event(
        client, _subscription_event(world, user), app.config["STRIPE_WEBHOOK_SECRET"]
    )
    assert response.status_code == 200
    assert _members() == 1


def test_the_webhook_workers_batch_moves_the_cached_count_at_once(app, client, db, world, runner):
    app.config["WEBHOOK_QUEUE"] = True
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    for n in range(3):  # facts about three new supporters: applied together (membership.batch)
        sub = world.subscription(f"sub_{n}", f"cus_{n}", "active")
        event = world.event("customer.subscription.created", sub)
        assert post_event(client, event, secret).json["status"] == "queued"
    assert _members() == 0  # cached for an hour
    result = runner.invoke(args=["webhooks", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert _members() == 3


def test_a_replayed_event_moves_the_cached_count_at_once(
    app, client, db, world, runner, monkeypatch
):
    from donations.payments import ledger

    user = make_user()
    event = _subscription_event(world, user)

    def broken(fact, at):
        raise RuntimeError("database hiccup")

    with monkeypatch.context() as patch:
        patch.setitem(ledger.HANDLERS, "customer.subscription.updated", broken)
        assert post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"]).status_code == 500
    assert _members() == 0
    result = runner.invoke(args=["stripe", "replay", event["id"]])
    assert result.exit_code == 0, result.output
    assert _members() == 1


def test_stripe_sync_that_repairs_a_member_moves_the_cached_count_at_once(
    app, client, db, runner, emulator
):
    login(client, make_user())
    emulator.set_drop_deliveries(True)
    pay_membership(client, emulator)
    assert _members() == 0
    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert _members() == 1


def test_the_end_of_a_grace_moves_the_cached_count_at_once(app, client, db, world, runner):
    user = make_user()
    paid_until = NOW - timedelta(days=10)
    event = _subscription_event(
        world,
        user,
        "past_due",
        period_start=int(paid_until.timestamp()),
        period_end=int((paid_until + timedelta(days=30)).timestamp()),
    )
    with time_machine.travel(NOW, tick=False) as clock:
        assert post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"]).status_code == 200
        clock.move_to(NOW + timedelta(days=12))  # the 21 days ran out a day ago
        assert _members() == 1  # cached again at the new time, before the daily job
        result = runner.invoke(args=["members", "expire-grace"])
        assert result.exit_code == 0, result.output
        assert _members() == 0


def test_only_a_committed_count_is_ever_cached(app, db):
    move_counter(+5)
    db.session.flush()
    app.extensions["cache"].clear_local()
    assert get_progress().members == 0  # the change may still roll back
    db.session.rollback()
    assert get_progress().members == 0


@pytest.fixture
def shared_redis(redis_url):
    client = redis.Redis.from_url(redis_url)
    prefix = f"donations-tests-{uuid.uuid4().hex}:"
    yield client, prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_two_app_servers_on_one_database_and_redis_agree_within_the_bound(make_app, shared_redis):
    client, prefix = shared_redis
    settings = {"REDIS_URL": REDIS_TEST_URL, "CACHE_KEY_PREFIX": prefix, "CACHE_SECONDS": 1}
    first, second = make_app(**settings), make_app(**settings)
    with second.app_context():
        assert get_progress().members == 0  # the second server caches 0
    with first.app_context():
        move_counter(to=7)
        _db.session.commit()
        assert get_progress().members == 7  # the writer sees its change at once
        assert client.get(f"{prefix}progress") is not None  # and shares it through Redis
    changed = time.monotonic()
    with second.app_context():
        while get_progress().members != 7:
            assert time.monotonic() - changed < 1.5, "stale beyond CACHE_SECONDS"
            time.sleep(0.05)
        # A third worker of the second server, starting cold, reads the shared number.
        second.extensions["cache"].clear_local()
        assert get_progress().members == 7


def test_a_cache_setting_that_is_not_a_positive_number_stops_start_up(make_app):
    from donations.config import ConfigError

    with pytest.raises(ConfigError, match="CACHE_SECONDS"):
        make_app(CACHE_SECONDS="soon")
