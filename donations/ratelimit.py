"""Rate-limit storage that survives Redis going away: counts move to process memory meanwhile.

Flask-Limiter's own fallback swaps every route's limits for one global list, so login would
lose its per-email limits exactly when Redis is down. This storage keeps the same limits and
only changes where they are counted. It is registered with `limits` under the scheme
`fallback+redis://` (config.py builds that URI from REDIS_URL).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from flask import request
from limits.storage import MemoryStorage, RedisStorage, Storage

log = logging.getLogger(__name__)


# After a failure, don't ask Redis again for this long: a dead host must not cost every
# request a connection timeout.
RETRY_AFTER_SECONDS = 5.0
LOG_EVERY_SECONDS = 60.0
# A Redis that does not answer within this is treated as down for the request at hand.
SOCKET_TIMEOUT_SECONDS = 0.5


class FallbackRedisStorage(Storage):
    """Counts in Redis; while Redis is unreachable, counts in this process instead."""

    STORAGE_SCHEME = ["fallback+redis", "fallback+rediss", "fallback+redis+unix"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
        self.primary = RedisStorage(uri.removeprefix("fallback+"), **options)
        self.fallback = MemoryStorage()
        self._down_until = 0.0
        self._last_log = 0.0
        self._lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Nothing escapes: Redis errors are answered from memory."""
        return ()

    @property
    def degraded(self) -> bool:
        """True while counts are kept in memory because Redis failed recently."""
        return time.monotonic() < self._down_until

    def _call(self, name: str, *args: Any) -> Any:
        if not self.degraded:
            try:
                return getattr(self.primary, name)(*args)
            except self.primary.base_exceptions as exc:
                self._mark_down(exc)
        return getattr(self.fallback, name)(*args)

    def _mark_down(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self._down_until = now + RETRY_AFTER_SECONDS
            if now - self._last_log >= LOG_EVERY_SECONDS or not self._last_log:
                self._last_log = now
                log.warning(
                    "rate-limit storage (Redis) unreachable, counting in process memory: %s",
                    exc,
                )

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Increment a counter (in Redis, else in memory)."""
        return self._call("incr", key, expiry, amount)

    def get(self, key: str) -> int:
        """A counter's value."""
        return self._call("get", key)

    def get_expiry(self, key: str) -> float:
        """When a counter expires."""
        return self._call("get_expiry", key)

    def check(self) -> bool:
        """True when Redis answers a ping."""
        try:
            return bool(self.primary.check())
        except Exception:  # check() is a health probe: any failure means "not ok"
            return False

    def reset(self) -> int | None:
        """Clear every counter (both places)."""
        self.fallback.reset()
        return self._call("reset")

    def clear(self, key: str) -> None:
        """Clear one counter (both places)."""
        self.fallback.clear(key)
        self._call("clear", key)

    def close(self) -> None:
        """Close Redis connections (tests and shutdown)."""
        self.primary.storage.close()


def hashed(kind: str, value: str) -> str:
    """A short, fixed-size key for a rate-limit bucket: no raw emails or addresses in Redis."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{kind}:{digest}"


def client_key() -> str:
    """The client's bucket: its address (through TRUSTED_PROXIES, see register_proxies)."""
    return hashed("ip", request.remote_addr or "unknown")


def storage_state(storage: Storage) -> str:
    """ "memory", "redis" or "degraded": where rate limits are counted right now."""
    if isinstance(storage, FallbackRedisStorage):
        return "degraded" if storage.degraded else "redis"
    return "memory"


__all__ = ["FallbackRedisStorage", "client_key", "hashed", "storage_state"]
