"""Shared fixtures: app, client, db, runner, a fresh database per test, SQLite or PostgreSQL.

Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the
whole suite on PostgreSQL; otherwise every test gets its own SQLite file. On PostgreSQL each
run makes its own database next to the given one (test_run_<pid>) and drops it at the end,
so two runs on one server (a developer's and CI's) never trample each other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from donations import create_app
from donations.extensions import db as _db

SERVER_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = SERVER_DATABASE_URL.startswith("postgresql")
# This run's own database (set in pytest_configure); "" on SQLite.
TEST_DATABASE_URL = ""


def _admin_engine():
    return create_engine(SERVER_DATABASE_URL, isolation_level="AUTOCOMMIT")


def _drop_stale_run_databases(conn, base: str) -> None:
    """Drop databases left by earlier runs that were killed before they could clean up."""
    names = conn.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
        {"pattern": f"{base}_run_%"},
    ).scalars()
    for name in names:
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_configure(config) -> None:
    """On PostgreSQL, create this run's database."""
    global TEST_DATABASE_URL
    if not ON_POSTGRES:
        return
    server = make_url(SERVER_DATABASE_URL)
    name = f"{server.database}_run_{os.getpid()}"
    engine = _admin_engine()
    with engine.connect() as conn:
        _drop_stale_run_databases(conn, server.database)
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    TEST_DATABASE_URL = server.set(database=name).render_as_string(hide_password=False)


def pytest_unconfigure(config) -> None:
    """Drop this run's database."""
    if ON_POSTGRES and TEST_DATABASE_URL:
        engine = _admin_engine()
        with engine.connect() as conn:
            conn.execute(
                text(
                    f'DROP DATABASE IF EXISTS "{make_url(TEST_DATABASE_URL).database}" WITH (FORCE)'
                )
            )
        engine.dispose()


def pytest_report_header(config) -> str:
    """Say which database this run uses, so a log never leaves it in doubt."""
    where = f"PostgreSQL {TEST_DATABASE_URL}" if ON_POSTGRES else "SQLite (a file per test)"
    return f"database: {where}"


def _truncate_all(app: Flask) -> None:
    # The member counter's one row is part of the schema (made with the table): reset it.
    with app.app_context():
        tables = ", ".join(
            f'"{t.name}"' for t in _db.metadata.sorted_tables if t.name != "member_counter"
        )
        _db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _db.session.execute(text("UPDATE member_counter SET members = 0"))
        _db.session.commit()


def base_config(tmp_path: Path) -> dict[str, Any]:
    """Settings every test app starts from; tests override what they need."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "STRIPE_SECRET_KEY": "",
        "STRIPE_EMULATOR_DB": str(tmp_path / "stripe-emulator.sqlite3"),
        # Tests deliver the emulator's webhooks themselves (emulator.deliver_pending()).
        "STRIPE_EMULATOR_BACKGROUND": False,
        "STRIPE_EMULATOR_RETRY_BASE": 0.01,
        "SITE_URL": "http://localhost",
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": "",
        "MAIL_SERVER": "",
    }


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Build an app with a fresh, empty schema; keyword arguments override settings."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = create_app({**base_config(tmp_path), **overrides})
        with app.app_context():
            _db.create_all()
        made.append(app)
        return app

    yield factory
    for app in made:
        emulator = app.extensions.get("stripe_emulator")
        if emulator is not None:
            emulator.close()
        with app.app_context():
            _db.session.remove()
            if ON_POSTGRES:
                _truncate_all(app)
            _db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """The application under test, inside an app context."""
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def db(app: Flask):
    """The Flask-SQLAlchemy handle, bound to this test's fresh database."""
    return _db


@pytest.fixture
def client(app: Flask):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for the app's flask commands."""
    return app.test_cli_runner()


class _Dispatcher:
    """WSGI app that forwards to an app set after the server knows its port."""

    app: Flask | None = None

    def __call__(self, environ, start_response):
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class LiveServer:
    """A running server: its base URL and the app it serves."""

    url: str
    app: Flask


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """Serve a fresh app (CSRF on, as in production) on a free loopback port."""
    dispatcher = _Dispatcher()
    server: BaseWSGIServer = make_server("127.0.0.1", 0, dispatcher, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # As in production: CSRF on, and the emulator delivers webhooks over HTTP in the background.
    dispatcher.app = make_app(SITE_URL=url, WTF_CSRF_ENABLED=True, STRIPE_EMULATOR_BACKGROUND=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, app=dispatcher.app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
