"""The emulator's persistent state: one SQLite file shared by threads and processes.

Objects are JSON documents keyed by id. The outbox holds one row per (event, webhook endpoint)
to deliver, the idempotency table holds cached API answers. Every read-modify-write runs inside
`BEGIN IMMEDIATE`, so two processes (a web worker and a CLI command) never interleave their
changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    created INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_type ON objects (type, seq);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    endpoint_id TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_by TEXT,
    claimed_until REAL,
    last_status INTEGER,
    last_error TEXT,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS idempotency (
    api_key TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    params TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (api_key, key)
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

OUTBOX_COLUMNS = (
    "seq, event_id, endpoint_id, status, attempts, next_attempt_at, claimed_by, claimed_until, "
    "last_status, last_error, delivered_at"
)


class Tx:
    """One open transaction: typed helpers over the connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get(self, obj_id: str, obj_type: str | None = None) -> dict[str, Any] | None:
        """Return the object with this id (and type, if given), or None."""
        row = self.conn.execute("SELECT type, data FROM objects WHERE id = ?", (obj_id,)).fetchone()
        if row is None or (obj_type is not None and row[0] != obj_type):
            return None
        return json.loads(row[1])

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace an object; an update keeps its place in list order."""
        self.conn.execute(
            "INSERT INTO objects (id, type, created, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            (obj["id"], obj["object"], int(obj.get("created") or time.time()), json.dumps(obj)),
        )
        return obj

    def delete(self, obj_id: str) -> None:
        """Remove an object (a deleted webhook endpoint)."""
        self.conn.execute("DELETE FROM objects WHERE id = ?", (obj_id,))

    def list(self, obj_type: str) -> list[dict[str, Any]]:
        """Return every object of a type, newest first as Stripe lists them."""
        rows = self.conn.execute(
            "SELECT data FROM objects WHERE type = ? ORDER BY seq DESC", (obj_type,)
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def setting(self, name: str, default: str = "") -> str:
        """Return a persisted setting."""
        row = self.conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return default if row is None else str(row[0])

    def set_setting(self, name: str, value: str) -> None:
        """Persist a setting."""
        self.conn.execute(
            "INSERT INTO settings (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def enqueue(self, event_id: str, endpoint_id: str, *, status: str = "pending") -> None:
        """Queue an event for delivery to one endpoint (or record it as dropped)."""
        self.conn.execute(
            "INSERT INTO outbox (event_id, endpoint_id, status, next_attempt_at) "
            "VALUES (?, ?, ?, ?)",
            (event_id, endpoint_id, status, time.time()),
        )

    def cancel_deliveries(self, endpoint_id: str, reason: str) -> None:
        """Give up the pending deliveries to one endpoint (it was deleted)."""
        self.conn.execute(
            "UPDATE outbox SET status = 'failed', last_error = ? "
            "WHERE endpoint_id = ? AND status = 'pending'",
            (reason, endpoint_id),
        )

    def idempotent(self, api_key: str, key: str) -> tuple[str, str, str, int, str] | None:
        """Return (method, path, params, status, body) cached for an Idempotency-Key."""
        row = self.conn.execute(
            "SELECT method, path, params, status, body FROM idempotency "
            "WHERE api_key = ? AND key = ?",
            (api_key, key),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2], int(row[3]), row[4])

    def remember(
        self, api_key: str, key: str, method: str, path: str, params: str, status: int, body: str
    ) -> None:
        """Cache an API answer under its Idempotency-Key."""
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (api_key, key, method, path, params, status, body, time.time()),
        )


class Store:
    """SQLite-backed state: a connection per thread, WAL mode, reentrant transactions."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        conn = self._conn()
        # Web workers starting together (gunicorn -w 4) open one new file at once, and the
        # set-up below (WAL switch, schema) then failed now and then with "database is locked"
        # under load. A file lock beside the state file lets one process set it up at a time.
        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # WAL lets readers proceed while a writer holds the lock; a property of the file.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
            if "endpoint_id" not in columns:
                # A state file from before webhook endpoints: its rows name no endpoint, so
                # they are delivered nowhere (see Emulator._prepare); new rows name theirs.
                conn.execute("ALTER TABLE outbox ADD COLUMN endpoint_id TEXT")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN ourselves so we can ask for IMMEDIATE.
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
            self._local.depth = 0
            with self._lock:
                self._conns.append(conn)
        return conn

    def in_transaction(self) -> bool:
        """Return whether this thread is inside a transaction."""
        return bool(getattr(self._local, "depth", 0))

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Tx]:
        """Run a block in one transaction; nested calls join the outer one."""
        conn = self._conn()
        depth: int = self._local.depth
        if depth:
            self._local.depth = depth + 1
            try:
                yield Tx(conn)
            finally:
                self._local.depth = depth
            return
        # IMMEDIATE takes the write lock up front, so a read-then-write cannot race.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        self._local.depth = 1
        try:
            yield Tx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def claim_due(self, worker: str, lease: float, limit: int = 1) -> list[dict[str, Any]]:
        """Atomically take the oldest due outbox rows (up to `limit`) for delivery."""
        now = time.time()
        with self.transaction() as tx:
            rows = tx.conn.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox "  # noqa: S608 - constant column list
                "WHERE (status = 'pending' AND next_attempt_at <= ?) "
                "OR (status = 'delivering' AND claimed_until < ?) ORDER BY seq LIMIT ?",
                (now, now, limit),
            ).fetchall()
            tx.conn.executemany(
                "UPDATE outbox SET status = 'delivering', claimed_by = ?, claimed_until = ?, "
                "attempts = attempts + 1 WHERE seq = ?",
                [(worker, now + lease, row[0]) for row in rows],
            )
        claimed = [_outbox_row(row) for row in rows]
        for row in claimed:
            row["attempts"] += 1
        return claimed

    def finish_attempt(
        self,
        seq: int,
        worker: str,
        *,
        status: str,
        http_status: int | None,
        error: str | None,
        next_at: float | None = None,
    ) -> None:
        """Record the result of a delivery attempt made by `worker`."""
        with self.transaction() as tx:
            tx.conn.execute(
                "UPDATE outbox SET status = ?, last_status = ?, last_error = ?, "
                "next_attempt_at = COALESCE(?, next_attempt_at), claimed_by = NULL, "
                "claimed_until = NULL, delivered_at = CASE WHEN ? = 'delivered' THEN ? "
                "ELSE delivered_at END WHERE seq = ? AND claimed_by = ?",
                (status, http_status, error, next_at, status, time.time(), seq, worker),
            )

    def outbox(self, event_id: str | None = None) -> list[dict[str, Any]]:
        """Return outbox rows (all, or those of one event) in creation order."""
        with self.transaction(write=False) as tx:
            sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox"  # noqa: S608 - constant column list
            args: tuple[Any, ...] = ()
            if event_id is not None:
                sql += " WHERE event_id = ?"
                args = (event_id,)
            rows = tx.conn.execute(sql + " ORDER BY seq", args).fetchall()
        return [_outbox_row(r) for r in rows]

    def next_due(self) -> float | None:
        """Return when the next pending or in-flight row becomes due, or None if none is."""
        with self.transaction(write=False) as tx:
            row = tx.conn.execute(
                "SELECT MIN(CASE WHEN status = 'pending' THEN next_attempt_at "
                "ELSE claimed_until END) FROM outbox WHERE status IN ('pending', 'delivering')"
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def close(self) -> None:
        """Close every connection this store opened (any thread)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


def _outbox_row(row: tuple[Any, ...]) -> dict[str, Any]:
    names = [n.strip() for n in OUTBOX_COLUMNS.split(",")]
    return dict(zip(names, row, strict=True))
