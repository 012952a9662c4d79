"""Every table's rows as a multiset that two runs of the same storm must share exactly.

Row ids, references by row id and the times our own clock wrote differ between runs by
nature; everything else must be equal (the member-change history as each membership's net).
A reference by row id (user_id, membership_id) is replaced by the natural key of the row it
points at, so "whose" still counts. A new integer column that points at a row id must be
added to NATURAL, else the snapshot refuses to guess.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg

# Our clock's stamps and the run's own bookkeeping: not part of what the storm decides.
OUR_CLOCK = {
    "created_at",
    "updated_at",
    "received_at",
    "processed_at",
    "recorded_at",
    "last_login_at",
    "started_at",
    "adopted_at",
}
# token_secret: random per account by design (accounts.tokens). no_effect: why an event
# changed nothing ("older" when a newer fact of its subscription was applied first) depends
# on the order events were applied, which differs between two runs of one storm by nature.
NOT_COMPARED = {"id", "attempts", "error", "payload", "token_secret", "no_effect", *OUR_CLOCK}
NATURAL = {
    "user_id": "(SELECT coalesce(u.stripe_customer_id, u.email) FROM users u WHERE u.id = {col})",
    "membership_id": "(SELECT m.stripe_subscription_id FROM memberships m WHERE m.id = {col})",
    "adopted_by_id": "(SELECT u.email FROM users u WHERE u.id = {col})",
}
# The dated history of member changes depends on the order events were applied (a cancellation
# applied before the activation writes no +1/-1 pair; the later of two "active" facts dates
# the +1), and two runs of one storm apply in different orders. What must match is each
# membership's net change: a lost change or a doubled one shows there.
NET_HISTORY = (
    "SELECT person, subscription, sum(delta)::text FROM ("
    f"SELECT {NATURAL['user_id'].format(col='t.user_id')} AS person, "
    f"{NATURAL['membership_id'].format(col='t.membership_id')} AS subscription, t.delta "
    "FROM member_changes t) h GROUP BY person, subscription"
)
# The mails the storm caused, each once: to whom and why. The cause's key names a row id
# (`claim:<attempt id>`), whether a mail went out yet depends on when the sender ran, and a
# cancellation's wording on the order its events were applied ("is cancelled" when the
# cancellation came first, "has ended" when the end did: one mail either way), so the kind of
# cause stands for the key and the subject and sending state are left out.
OUTBOX = "SELECT recipient, split_part(dedup_key, ':', 1) AS cause FROM outbox_mails"
# Not records of the storm: accounts' logins, sync runs, articles, the workers' heartbeats.
SKIPPED_TABLES = {"alembic_version", "login_sessions", "sync_runs", "articles", "webhook_workers"}


def _columns(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()


def _select(conn: psycopg.Connection, table: str) -> str:
    parts = []
    for name, kind in _columns(conn, table):
        if name in NOT_COMPARED:
            continue
        if name in NATURAL:
            parts.append(NATURAL[name].format(col=f"t.{name}"))
        elif name.endswith("_id") and kind in ("integer", "bigint"):
            raise AssertionError(f"{table}.{name} points at a row id: add it to NATURAL")
        else:
            parts.append(f"t.{name}::text")  # text: hashable, whatever the type
    return f"SELECT {', '.join(parts)} FROM {table} t"  # names from the catalog


def snapshot(conninfo: str) -> dict[str, Counter[tuple[Any, ...]]]:
    """Each table's rows (without ids and our clock's times) as a multiset."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
            if name not in SKIPPED_TABLES
        ]
        found = {t: Counter(conn.execute(_select(conn, t)).fetchall()) for t in tables}
        found["member_changes"] = Counter(conn.execute(NET_HISTORY).fetchall())
        found["outbox_mails"] = Counter(conn.execute(OUTBOX).fetchall())
        return found


def differences(
    ours: dict[str, Counter[tuple[Any, ...]]], theirs: dict[str, Counter[tuple[Any, ...]]]
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per table, the rows only one side has (a few of each), for a failure message."""
    found = {}
    for table in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(table, Counter()), theirs.get(table, Counter())
        if mine != other:
            found[table] = {
                "extra": list((mine - other).elements())[:5],
                "missing": list((other - mine).elements())[:5],
            }
    return found
