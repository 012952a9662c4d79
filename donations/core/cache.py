"""Short-lived caches for the hot read paths: in each process, and in Redis when configured.

Every value carries the time it was read from the database. A process keeps it at most
CACHE_SECONDS after that time, and Redis (shared by every worker and app server) expires it
at the same moment, so no reader ever sees a value more than CACHE_SECONDS old, whatever the
number of processes. Writers don't wait for that: the service that changes the data marks its
keys with `invalidate_on_commit`, and when that transaction commits the keys are dropped here
and in Redis, so the next reader loads the new value (other processes keep their own copy for
at most the rest of its CACHE_SECONDS). A read that such a drop overtook in this process is
not kept; in another process it may be, for at most CACHE_SECONDS (the thanks page, which must
show the member just counted, reads fresh: `get_progress(fresh=True)`).

What is built from these values follows them: `generation` moves with every drop, and
`watch()` / `watched_until()` tell when the values a request read stop being current, so the
page cache (core/http_cache.py) keeps no page longer than the numbers it shows.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from donations.extensions import db

log = logging.getLogger(__name__)

PENDING = "cache_invalidate"  # Session.info key: cache keys to drop when the commit lands
MAX_LOCAL_KEYS = 5000  # a flood of distinct keys must not grow a worker without bound


class Cache:
    """Values by key with bounded age: a per-process dict in front of an optional Redis."""

    def __init__(self, seconds: float, redis_url: str = "", prefix: str = "donations:cache:"):
        self.seconds = seconds
        self.prefix = prefix
        self._local: dict[str, tuple[float, Any]] = {}
        # How many times each key was dropped: a read that a drop overtook must not be kept.
        self._drops: dict[str, int] = {}
        # Bumped by every drop: whatever was built from this cache's values (the page cache's
        # stored pages) is out of date once it moves.
        self.generation = 0
        # Per thread: the earliest time a value read since watch() stops being current.
        self._watched = threading.local()
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5) if redis_url else None

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        """Return the cached value of key, or load() it (JSON-able) and cache it."""
        now = time.time()
        hit = self._local.get(key)
        if hit is not None and hit[0] > now:
            self._note(hit[0])
            return hit[1]
        drops = self._drops.get(key, 0)
        shared = self._shared_get(key)
        if shared is not None:
            read_at, value = shared
        else:
            read_at, value = now, load()
        if self._drops.get(key, 0) != drops:
            # A writer committed and dropped the key while this read was under way (another
            # thread of this process): the value may be from before the change. Use it for
            # this request only; the next reader loads afresh.
            self._note(now)
            return value
        if shared is None:
            self._shared_set(key, read_at, value)
        if len(self._local) >= MAX_LOCAL_KEYS:
            self._local = {k: v for k, v in self._local.items() if v[0] > now}
            if len(self._local) >= MAX_LOCAL_KEYS:
                self._local.clear()
        self._local[key] = (read_at + self.seconds, value)
        self._note(read_at + self.seconds)
        return value

    def watch(self) -> None:
        """Start noting when the values this thread reads from now on stop being current."""
        self._watched.until = math.inf

    def watched_until(self) -> float:
        """The earliest expiry (time.time()) of the values this thread read since watch()."""
        return getattr(self._watched, "until", math.inf)

    def _note(self, expires: float) -> None:
        until = getattr(self._watched, "until", None)
        if until is not None and expires < until:
            self._watched.until = expires

    def delete(self, *keys: str) -> None:
        """Drop keys here and in Redis; other processes keep theirs for at most CACHE_SECONDS."""
        for key in keys:
            self._drops[key] = self._drops.get(key, 0) + 1
            self._local.pop(key, None)
        if keys:
            self.generation += 1
        if self._redis is not None and keys:
            try:
                self._redis.delete(*(self.prefix + key for key in keys))
            except redis.RedisError:
                log.warning("cache: Redis unreachable, could not drop %s", ", ".join(keys))

    def clear_local(self) -> None:
        """Forget this process's copies (tests use it to act as a fresh worker)."""
        self._local.clear()
        self.generation += 1

    def _shared_get(self, key: str) -> tuple[float, Any] | None:
        if self._redis is None:
            return None
        try:
            raw = self._redis.get(self.prefix + key)
        except redis.RedisError:
            log.warning("cache: Redis unreachable, reading %s from the database", key)
            return None
        if raw is None:
            return None
        read_at, value = json.loads(raw)
        return float(read_at), value

    def _shared_set(self, key: str, read_at: float, value: Any) -> None:
        if self._redis is None:
            return
        ttl_ms = int(self.seconds * 1000)
        try:
            self._redis.set(self.prefix + key, json.dumps([read_at, value]), px=ttl_ms)
        except redis.RedisError:
            log.warning("cache: Redis unreachable, %s cached in this process only", key)


def get_cache() -> Cache:
    """This app's cache."""
    return current_app.extensions["cache"]


def invalidate_on_commit(session: Session, *keys: str) -> None:
    """Drop keys from every cache once the session's transaction commits (not before)."""
    session.info.setdefault(PENDING, set()).update(keys)


def _after_commit(session: Session) -> None:
    keys = session.info.pop(PENDING, None)
    if keys:
        get_cache().delete(*sorted(keys))


def init_app(app: Flask) -> None:
    """Give the app its cache (Redis-backed when REDIS_URL is set) and the commit hook on our
    db session (its sessionmaker: no other Session in the process is listened to)."""
    app.extensions["cache"] = Cache(
        app.config["CACHE_SECONDS"], app.config["REDIS_URL"], app.config["CACHE_KEY_PREFIX"]
    )
    if not event.contains(db.session, "after_commit", _after_commit):
        # No rollback hook: keys left pending by a rolled-back change are dropped at the next
        # commit, which costs one reload and is always safe.
        event.listen(db.session, "after_commit", _after_commit)
