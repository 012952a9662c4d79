"""The dashboard issues the same, bounded number of SQL statements whatever the data size."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import event

from donations.extensions import db
from donations.models import StripeEvent, SyncRun
from tests.staff.factories import (
    change_status,
    make_failed_payment,
    make_gift,
    make_supporter,
    subscribe,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# Session and user load, the user's membership state (navigation), counter, history, revenue,
# gifts, past due (2), sources, last sync, events in another API version, the webhook backlog
# (2), what Stripe settled (2: its totals, and the payments awaiting their fee).
DASHBOARD_QUERY_BOUND = 17


def _seed(n: int) -> None:
    for i in range(n):
        user = make_supporter(f"Person {i}")
        start = NOW - timedelta(days=3 * i + 1)
        sub = subscribe(user, start, interval="year" if i % 2 else "month", article="kalvesk")
        if i % 3 == 1:
            change_status(sub, "past_due", start + timedelta(hours=5))
            make_failed_payment(sub, start + timedelta(hours=5))
        elif i % 3 == 2:
            change_status(sub, "canceled", start + timedelta(days=1))
        make_gift(user, 1000 + i, ("usd", "eur", "gbp")[i % 3], start, refunded=i % 2 * 100)
    db.session.add(SyncRun(started_at=NOW, summary=json.dumps({"counts": {"x": n}})))
    db.session.add(
        StripeEvent(
            stripe_event_id=f"evt_{n}",
            type="invoice.paid",
            created=NOW,
            livemode=False,
            payload="{}",
        )
    )
    db.session.commit()


def _count_dashboard_queries(client) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with time_machine.travel(NOW, tick=False):
            response = client.get("/staff/")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_dashboard_query_count_does_not_grow_with_the_data(staff_client):
    _seed(1)
    few = _count_dashboard_queries(staff_client)
    _seed(40)
    many = _count_dashboard_queries(staff_client)
    assert few == many, (few, many)
    assert many <= DASHBOARD_QUERY_BOUND
