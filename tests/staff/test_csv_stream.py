"""The CSV export streams longer than one batch, with no app context kept alive for it.

The suite's `client` keeps an app context pushed for the whole test, which hid a body that
outlived its session (header only on PostgreSQL). Here the request runs with no context
held, as a server runs it, and once through gunicorn itself; the rows' own connection goes
back to the pool when the body is read and when the client leaves halfway.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from donations.extensions import db
from donations.models import User
from donations.staff import members
from donations.staff.csvexport import StreamedRows
from tests.appserver import gunicorn, logged_in, production_env
from tests.factories import DEFAULT_PASSWORD, login, make_user


def _supporters(n: int) -> None:
    """n Stripe-only supporters in one INSERT (names that need neutralising among them)."""
    db.session.execute(
        insert(User),
        [
            {
                "name": "=1+1" if i % 7 == 0 else f"Supporter {i}",
                "billing_email": f"s{i}@example.net",
                "stripe_customer_id": f"cus_stream{i:06d}",
            }
            for i in range(n)
        ],
    )
    db.session.commit()


@pytest.fixture
def staffed(make_app):
    """An app (no context left pushed) with 45 supporters and a staff account, and its client."""
    app = make_app()
    with app.app_context():
        _supporters(45)
        make_user(email="editor@example.org", is_staff=True)
    client = app.test_client()
    login(client, "editor@example.org")
    return app, client


def _checked_out(app) -> int:
    with app.app_context():
        return db.engine.pool.checkedout()


def test_the_csv_streams_every_batch_after_the_view_context_has_gone(staffed, monkeypatch):
    app, client = staffed
    monkeypatch.setattr(members, "CSV_BATCH", 10)  # 46 rows: five batches of the cursor
    response = client.get("/staff/members.csv")
    assert response.status_code == 200 and response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    response.close()
    assert len(rows) == 1 + 45 + 1
    assert sum(r[3] == "'=1+1" for r in rows) == 7
    assert _checked_out(app) == 0


def test_a_client_that_leaves_halfway_gives_the_connection_back(staffed, monkeypatch):
    app, client = staffed
    monkeypatch.setattr(members, "CSV_BATCH", 10)
    response = client.get("/staff/members.csv", buffered=False)
    body = iter(response.response)
    assert next(body).startswith(b'"user_id"')
    next(body)
    assert _checked_out(app) == 1  # the rows' own connection, held while the body is read
    response.close()  # what the server does when the client goes away
    assert _checked_out(app) == 0


def test_a_query_that_fails_raises_in_the_view_and_holds_no_connection(app):
    with pytest.raises(DBAPIError):
        StreamedRows(db.engine, text("SELECT no_such_column FROM users"), tuple)
    assert db.engine.pool.checkedout() == 0


def test_streamed_rows_close_once_read_to_the_end(app):
    _supporters(3)
    rows = StreamedRows(db.engine, select(User.id).order_by(User.id), tuple, batch=2)
    assert not rows.closed
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows.closed and db.engine.pool.checkedout() == 0
    rows.close()  # again, as the server's close() after the end: nothing happens


def test_the_csv_streams_through_gunicorn(app, tmp_path: Path):
    """Through the real server, on this run's database (SQLite or PostgreSQL): every row."""
    _supporters(2500)  # two and a half batches of the server-side cursor
    make_user(email="editor@example.org", is_staff=True)
    env = production_env(
        DATABASE_URL=app.config["DATABASE_URL"],
        INSTANCE_PATH=str(tmp_path / "instance"),
        STRIPE_EMULATOR_DB=str(tmp_path / "emulator.sqlite3"),
        SITE_URL="http://127.0.0.1",
    )
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1) as server:
        staff = logged_in(server.url, "editor@example.org", DEFAULT_PASSWORD)
        answer = staff.get(server.url + "/staff/members.csv", timeout=60)
        log = server.log.read_text()
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert len(rows) == 1 + 2500 + 1
    assert rows[-1][0] and "Traceback" not in log and "ERROR" not in log
