"""The PostgreSQL-only tests' database when no TEST_DATABASE_URL names a server: our own.

Tests marked `postgres_only` need PostgreSQL itself (row locks, SKIP LOCKED, backends to
kill). On a PostgreSQL run (TEST_DATABASE_URL set) they use that server like every other
test. Otherwise the first of them in a process (each pytest-xdist worker is one) starts a
throwaway cluster (tests/pgcluster.py: initdb and pg_ctl into a temporary folder, as Indico's
fixtures do), creates the schema there once, and points the suite's database settings at it
for those tests only. The cluster is removed when the session ends. Without PostgreSQL's
server binaries they skip, saying why, unless REQUIRE_POSTGRES=1 or CI is set: there a
PostgreSQL test that does not run is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from tests.pgcluster import Cluster, binaries, reap_stale

PREFIX = "donations-pg-"  # our clusters' folders (the rig's are donations-rig-)
REQUIRE = os.environ.get("REQUIRE_POSTGRES") == "1" or bool(os.environ.get("CI"))
MISSING = (
    "PostgreSQL-only test: no TEST_DATABASE_URL, and no PostgreSQL server binaries (initdb, "
    "pg_ctl under /usr/lib/postgresql/*/bin) to start a cluster of our own"
)


def pytest_report_header(config: pytest.Config) -> str:
    """Say where the PostgreSQL-only tests get their database."""
    from tests import conftest

    if conftest.ON_POSTGRES:
        return "postgres_only tests: on the run's database"
    if binaries() is None:
        return f"postgres_only tests: {'FAIL' if REQUIRE else 'skip'} (no PostgreSQL binaries)"
    return "postgres_only tests: a PostgreSQL cluster of their own (initdb, per process)"


@pytest.fixture(scope="session")
def own_postgres_url() -> Iterator[str]:
    """A database with the full schema in a PostgreSQL cluster this process started."""
    from donations.extensions import db

    bin_dir = binaries()
    if bin_dir is None:
        if REQUIRE:
            pytest.fail(f"{MISSING} (REQUIRE_POSTGRES=1 or CI is set)")
        pytest.skip(f"{MISSING}; set TEST_DATABASE_URL or install PostgreSQL")
    reap_stale(PREFIX)
    cluster = Cluster(bin_dir, PREFIX)
    try:
        cluster.start()
        cluster.create_database("test")
        engine = create_engine(cluster.url("test"))
        db.metadata.create_all(engine)
        engine.dispose()
        yield cluster.url("test")
    finally:
        cluster.destroy()


@pytest.fixture(autouse=True)
def _postgres_only_database(request: pytest.FixtureRequest) -> None:
    """A `postgres_only` test on a SQLite run gets our own PostgreSQL as the run's database.

    The suite's `make_app` reads these two settings of tests/conftest.py when it builds an
    app and when it empties the tables afterwards; being autouse, this runs before it and is
    undone (by monkeypatch) after it.
    """
    from tests import conftest

    if conftest.ON_POSTGRES or request.node.get_closest_marker("postgres_only") is None:
        return
    url = request.getfixturevalue("own_postgres_url")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setattr(conftest, "ON_POSTGRES", True)
    monkeypatch.setattr(conftest, "TEST_DATABASE_URL", url)
