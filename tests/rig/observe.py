"""What the operator watches: the ledger's figures, /healthz over time, the workers' backends.

Read straight from the rig's database with psycopg (the tests drive the site over HTTP only;
reading the result is the operator's psql), each read tolerant of a database that is away.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import psycopg

APPLIED = ("processed", "ignored")

FIGURES = {
    "events": "SELECT count(*) FROM stripe_events",
    "applied": "SELECT count(*) FROM stripe_events WHERE status IN ('processed', 'ignored')",
    "waiting": "SELECT count(*) FROM stripe_events WHERE status IN ('received', 'failed')",
    "second_attempts": "SELECT count(*) FROM stripe_events WHERE attempts > 1",
    "counter": "SELECT members FROM member_counter WHERE id = 1",
    "recount": "SELECT count(DISTINCT user_id) FROM memberships "
    "WHERE status IN ('active', 'trialing', 'past_due')",
    "oldest_waiting_s": "SELECT coalesce(extract(epoch FROM now() - min(received_at)), 0) "
    "FROM stripe_events WHERE status IN ('received', 'failed')",
    "deadlocks": "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
}


def figures(conninfo: str) -> dict[str, float]:
    """Every figure of FIGURES, now."""
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=2) as conn:
        return {name: float(conn.execute(sql).fetchone()[0] or 0) for name, sql in FIGURES.items()}


def wait_applied(conninfo: str, events: int, limit: float) -> float | None:
    """Wait until `events` events are stored and applied; the monotonic time it was, or None."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error):
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=2) as conn:
                total, applied = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE status IN ('processed', 'ignored'))"
                    " FROM stripe_events"
                ).fetchone()
            if total == applied == events:
                return time.monotonic()
        time.sleep(0.1)
    return None


@dataclass
class Poll:
    """One look: /healthz's status, and how long the oldest event had waited (database)."""

    at: float
    health: str
    oldest_waiting_s: float | None
    checks: dict[str, Any] = field(default_factory=dict)  # /healthz's own detail, if not ok


@dataclass
class HealthWatch:
    """Polls /healthz and the ledger every `every` seconds in a thread, until stopped."""

    base_url: str
    conninfo: str
    every: float = 0.5
    polls: list[Poll] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> HealthWatch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    def _health(self) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            with contextlib.suppress(ValueError):
                return json.loads(error.read())
            return {"status": str(error.code)}
        except OSError:
            return {"status": "unreachable"}

    def _oldest(self) -> float | None:
        try:
            with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=1) as conn:
                return float(conn.execute(FIGURES["oldest_waiting_s"]).fetchone()[0])
        except psycopg.Error:
            return None  # the database is away: nobody can say

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            body = self._health()
            status = body.get("status", "?")
            checks = body.get("checks", {}) if status != "ok" else {}
            self.polls.append(Poll(time.monotonic(), status, self._oldest(), checks))

    def said(self, start: float, end: float) -> list[str]:
        """The statuses /healthz gave between two moments."""
        return [p.health for p in self.polls if start <= p.at <= end]

    def ok_while_stuck(self, stuck_after: float) -> list[Poll]:
        """Polls that said ok while an event had waited longer than `stuck_after` seconds."""
        return [
            p
            for p in self.polls
            if p.health == "ok"
            and p.oldest_waiting_s is not None
            and p.oldest_waiting_s > stuck_after
        ]


def busy_backends(conn: psycopg.Connection, app_name: str) -> list[int]:
    """Backends of one worker that are in the middle of something (a query or a transaction)."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND state <> 'idle'"
        " AND pid <> pg_backend_pid()",
        (app_name,),
    ).fetchall()
    return [pid for (pid,) in rows]


def terminate_busy(conninfo: str, app_name: str, until: float) -> bool:
    """pg_terminate_backend the worker's busy backend as soon as there is one; False if none."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.monotonic() < until:
            for pid in busy_backends(conn, app_name):
                if conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]:
                    return True
            time.sleep(0.01)
    return False


def rows(conninfo: str, sql: str) -> list[tuple[Any, ...]]:
    """Every row of a query, sorted: a multiset to compare."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return sorted(conn.execute(sql).fetchall(), key=repr)
