"""Shared fixtures: app, client, db, runner, a fresh database per test, SQLite or PostgreSQL.

Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the
whole suite on PostgreSQL; otherwise every test gets its own SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from donations import create_app
from donations.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def pytest_report_header(config) -> str:
    """Say which database this run uses, so a log never leaves it in doubt."""
    where = f"PostgreSQL {TEST_DATABASE_URL}" if ON_POSTGRES else "SQLite (a file per test)"
    return f"database: {where}"


def _reset_postgres(url: str) -> None:
    """Empty the test database's public schema (tables, types, alembic_version)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[None]:
    if ON_POSTGRES:
        _reset_postgres(TEST_DATABASE_URL)
    yield


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
def make_app(
    tmp_path: Path, _postgres_schema: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Flask]]:
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
