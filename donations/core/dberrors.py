"""What a database error means for work that hit it: an outage, a retry, or the work's own fault.

An outage (the connection lost, the server restarting or failing over) says nothing about the
event being applied: it is put back and the worker reconnects. A deadlock or a serialization
failure is a race lost to another transaction: the same work succeeds if tried again at once.
Anything else, a statement timeout (57014) included, belongs to the work itself: counted as a
failed attempt, so a poison event can never loop forever.
"""

from __future__ import annotations

import random
import time

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError

OUTAGE, RETRY = "outage", "retry"

# SQLSTATEs: class 08 (connection exception); 57P01 admin_shutdown (pg_terminate_backend, a
# fast shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, or a standby).
_OUTAGE_STATES = ("57P01", "57P02", "57P03")
# 40P01 deadlock_detected, 40001 serialization_failure.
_RETRY_STATES = ("40P01", "40001")
# query_canceled: a statement_timeout, or a cancel by hand. An OperationalError in psycopg's
# hierarchy, yet the work's own fault.
_OWN_STATES = ("57014",)
_OUTAGE_WORDS = (
    "server closed the connection",
    "terminating connection",
    "connection refused",
    "connection failed",
    "connection to server",
    "could not connect",
    "connection is closed",
    "the connection is lost",
    "consuming input failed",
    "ssl syscall error",
    "connection already closed",
    "database system is shutting down",
    "database system is starting up",
)


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(state) if state else None


def _chain(exc: BaseException) -> list[BaseException]:
    """The error and the ones it was raised from or during (a failed rollback hides the first)."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen


def _classify_one(exc: BaseException) -> str | None:
    state = _sqlstate(exc)
    if state in _OWN_STATES:
        return None
    if state in _RETRY_STATES:
        return RETRY
    if state and (state.startswith("08") or state in _OUTAGE_STATES):
        return OUTAGE
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return OUTAGE
    if isinstance(exc, PendingRollbackError | InterfaceError):
        return OUTAGE
    message = str(exc).lower()
    if any(word in message for word in _OUTAGE_WORDS):
        return OUTAGE
    if isinstance(exc, OperationalError) and "database is locked" in message:
        return RETRY  # SQLite: another writer holds the file for longer than its busy timeout
    return None


def classify(exc: BaseException) -> str | None:
    """OUTAGE, RETRY, or None when the error is the work's own (to be counted against it)."""
    if _sqlstate(exc) in _OWN_STATES:
        return None  # a statement timeout is the statement's, whatever came before it
    kinds = [_classify_one(e) for e in _chain(exc)]
    if OUTAGE in kinds:
        return OUTAGE
    if RETRY in kinds:
        return RETRY
    return None


def is_infrastructure(exc: BaseException) -> bool:
    """True for an outage or a lost race: never the fault of the work that hit it."""
    return classify(exc) is not None


def backoff(attempt: int, *, base: float = 0.1, cap: float = 5.0) -> float:
    """Seconds before reconnecting after `attempt` failures: capped exponential, full jitter."""
    return random.uniform(base, min(cap, base * 2 ** max(attempt - 1, 0)))  # noqa: S311


def jitter_sleep(attempt: int) -> None:
    """A short random pause before retrying a lost race, so the two sides don't meet again."""
    time.sleep(random.uniform(0.005, 0.05 * min(attempt, 4)))  # noqa: S311
