"""The PostgreSQL-only tests really run on PostgreSQL, with or without TEST_DATABASE_URL."""

from __future__ import annotations

import pytest
from sqlalchemy import text


@pytest.mark.postgres_only
def test_a_postgres_only_test_gets_a_postgresql_database(app, db):
    assert db.engine.dialect.name == "postgresql", db.engine.url
    # Its tables are there, empty, as on the run's own database.
    assert db.session.execute(text("SELECT members FROM member_counter")).scalar_one() == 0
