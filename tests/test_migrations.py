"""`flask db upgrade` builds the full schema, and the migrations agree with the models."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from donations import create_app
from donations.extensions import db
from tests import conftest
from tests.conftest import ON_POSTGRES, base_config


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database: a SQLite file, or a PostgreSQL database made for this test."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(conftest.SERVER_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield (
        make_url(conftest.SERVER_DATABASE_URL)
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_builds_every_table_and_matches_the_models(tmp_path, empty_database_url):
    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_nothing_and_back_works(tmp_path, empty_database_url):
    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_database_url})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            counter = conn.execute(text("SELECT id, members FROM member_counter")).all()
        db.engine.dispose()
    assert counter == [(1, 0)]
