"""Rate-limit keys (hashed: no raw emails or addresses in Redis) and where limits are counted.

Storage is Flask-Limiter's own: Redis when REDIS_URL is set (config.py), with its in-memory
fallback (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED): while Redis is unreachable each process
counts every route's own limits in memory (Flask-Limiter ≥ 4.1 keeps per-route limits when no
fallback list is given), and it goes back to Redis once Redis answers again.
"""

from __future__ import annotations

import hashlib

from flask import request


def hashed(kind: str, value: str) -> str:
    """A short, fixed-size key for a rate-limit bucket: no raw emails or addresses in Redis."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{kind}:{digest}"


def client_key() -> str:
    """The client's bucket: its address (through TRUSTED_PROXIES, see register_proxies)."""
    return hashed("ip", request.remote_addr or "unknown")


__all__ = ["client_key", "hashed"]
