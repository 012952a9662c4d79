"""The read cache in front of the hot paths (donations/core/cache.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import time_machine

from donations.core.cache import Cache


def test_a_read_that_a_drop_overtook_is_not_kept_after_it():
    cache = Cache(seconds=3600)

    def racing_read() -> str:
        # The writer's commit lands, and drops the key, while this read is under way.
        cache.delete("members")
        return "before the change"

    assert cache.get("members", racing_read) == "before the change"
    assert cache.get("members", lambda: "after the change") == "after the change"
    assert cache.get("members", lambda: "not read again") == "after the change"


def test_a_value_is_kept_until_it_is_dropped():
    cache = Cache(seconds=3600)
    assert cache.get("members", lambda: 1) == 1
    assert cache.get("members", lambda: 2) == 1
    cache.delete("members")
    assert cache.get("members", lambda: 3) == 3


def test_every_drop_moves_the_generation_that_pages_built_from_values_follow():
    cache = Cache(seconds=3600)
    before = cache.generation
    cache.get("members", lambda: 1)
    assert cache.generation == before  # a read changes nothing
    cache.delete("members")
    assert cache.generation == before + 1
    cache.clear_local()  # a fresh worker keeps no page either
    assert cache.generation == before + 2


def test_a_watcher_learns_when_the_values_it_read_stop_being_current(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("donations.core.cache.time.time", lambda: now[0])
    cache = Cache(seconds=10)
    cache.get("members", lambda: 1)  # current until 1010
    now[0] = 1004.0
    cache.watch()
    cache.get("articles", lambda: "v1")  # current until 1014
    assert cache.watched_until() == 1014.0
    cache.get("members", lambda: 2)  # the copy read at 1000
    assert cache.watched_until() == 1010.0
    cache.watch()
    assert cache.watched_until() == float("inf")


def test_a_value_shared_through_redis_is_kept_no_longer_than_its_read_time_allows(redis_url):
    # CACHE_SECONDS bounds a value's age since it was read from the database, in every
    # process: one that picks it up from Redis late keeps it only for the rest of that time.
    prefix = f"donations-tests-cache-{uuid.uuid4().hex}:"
    writer = Cache(seconds=10, redis_url=redis_url, prefix=prefix)
    reader = Cache(seconds=10, redis_url=redis_url, prefix=prefix)
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        assert writer.get("members", lambda: 1) == 1  # read from the database now
    with time_machine.travel(start + timedelta(seconds=8), tick=False):
        assert reader.get("members", lambda: 2) == 1  # 8 seconds old: still good
    writer._redis.delete(prefix + "members")  # what Redis's own expiry does at 10 seconds
    with time_machine.travel(start + timedelta(seconds=11), tick=False):
        assert reader.get("members", lambda: 2) == 2  # 11 seconds: read again


def test_only_commits_of_our_db_session_drop_cached_values(app, db):
    # The commit hook listens on the app's db session, not on every Session in the process.
    from sqlalchemy.orm import Session

    from donations.core.cache import get_cache, invalidate_on_commit

    cache = get_cache()
    assert cache.get("scoped", lambda: 1) == 1
    with Session(db.engine) as other:
        invalidate_on_commit(other, "scoped")
        other.commit()
    assert cache.get("scoped", lambda: 2) == 1
    invalidate_on_commit(db.session(), "scoped")
    db.session.commit()
    assert cache.get("scoped", lambda: 3) == 3
