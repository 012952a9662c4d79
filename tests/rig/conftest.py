"""The production-shaped rig: its own PostgreSQL, Redis, gunicorn and two queue workers.

Started once for every rig test (it takes a few seconds) and emptied between them. Needs
PostgreSQL's server binaries (initdb, pg_ctl) and a Redis; without them the rig tests skip,
saying why, unless REQUIRE_RIG=1 (CI), which turns the skip into a failure. Run them alone:
`pytest -m rig` (make test does, once, after the two normal runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.appserver import ROOT, Gunicorn, free_port, production_env, start_gunicorn
from tests.pgcluster import Cluster, binaries, reap_stale
from tests.rig.processes import Workers

REQUIRE = os.environ.get("REQUIRE_RIG") == "1"
# The rig's Redis database: its own number (it is emptied between tests).
REDIS_URL = (
    os.environ.get("RIG_REDIS_URL")
    or os.environ.get("TEST_REDIS_URL")
    or "redis://127.0.0.1:6379/15"
)
SECRET = "whsec_rig_" + "5ab1e" * 6  # the rig endpoint's signing secret
KEEP = ("alembic_version", "member_counter", "webhook_workers")  # the heartbeats go on
STUCK_SECONDS = 5  # WEBHOOK_STUCK_SECONDS of the rig's app
PREFIX = "donations-rig-"  # the rig cluster's folder


@dataclass
class Rig:
    """The running rig: its database, server, workers and where they write."""

    cluster: Cluster
    server: Gunicorn
    workers: Workers
    env: dict[str, str]
    logs: Path
    secret: str = SECRET

    @property
    def conninfo(self) -> str:
        """libpq connection string of the app's database."""
        return self.cluster.conninfo("rig")

    @property
    def url(self) -> str:
        """The site's base URL."""
        return self.server.url

    def flask(self, *args: str) -> str:
        """Run a flask command as an operator would; its output."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def empty(self) -> None:
        """Every table emptied (ids from 1 again) and the counter at 0, Redis emptied."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            tables = [
                name
                for (name,) in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
                if name not in KEEP
            ]
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            conn.execute("UPDATE member_counter SET members = 0")
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist the rig would start once per worker and share the CPUs: skip it.

    Its figures (drain times, memory) are only meaningful alone; `pytest -m rig` runs it so.
    """
    if not hasattr(config, "workerinput"):
        return
    alone = pytest.mark.skip(reason="the rig runs alone: pytest -m rig (without -n)")
    for item in items:
        if item.get_closest_marker("rig"):
            item.add_marker(alone)


def _unavailable() -> str | None:
    """Why the rig cannot run here, or None."""
    if binaries() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl under /usr/lib/postgresql/*/bin)"
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return f"no Redis at {REDIS_URL} (set RIG_REDIS_URL or TEST_REDIS_URL)"
    return None


def _wait_alive(conninfo: str, workers: Workers) -> None:
    """Until every worker has booted and beat (the queue's heartbeat table): a site in service."""
    sql = "SELECT pid FROM webhook_workers WHERE beat_at > now() - interval '5 seconds'"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            pids = {pid for (pid,) in conn.execute(sql)}
        if all(workers.pid(slot) in pids for slot in range(workers.count)):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the queue workers did not start:\n{workers.log_tail()}")


@pytest.fixture(scope="session")
def _rig() -> Iterator[Rig]:
    reason = _unavailable()
    if reason:
        if REQUIRE:
            pytest.fail(f"REQUIRE_RIG=1 but the rig cannot run: {reason}")
        pytest.skip(reason)
    reap_stale(PREFIX)
    cluster = Cluster(binaries(), PREFIX)  # type: ignore[arg-type]
    logs = Path(tempfile.mkdtemp(prefix="donations-rig-logs-"))
    workers = server = None
    try:
        cluster.start()
        cluster.create_database("rig")
        port = free_port()
        env = production_env(
            DATABASE_URL=cluster.url("rig"),
            WEBHOOK_QUEUE="1",
            REDIS_URL=REDIS_URL,
            STRIPE_WEBHOOK_SECRET=SECRET,
            SITE_URL=f"http://127.0.0.1:{port}",
            INSTANCE_PATH=str(logs / "instance"),
            STRIPE_EMULATOR_DB=str(logs / "emulator.sqlite3"),
            GUNICORN_ACCESS_LOG="/dev/null",
            PGAPPNAME="rig-web",
            # Stuck sooner than production's 10 s, so a fault shows on /healthz within the test.
            WEBHOOK_STUCK_SECONDS=str(STUCK_SECONDS),
        )
        rig_env = {**env, "PGAPPNAME": "rig-cli"}
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT, env=rig_env, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        server = start_gunicorn(env, logs / "gunicorn.log", workers=2, port=port)
        workers = Workers(env=env, logs=logs)
        workers.start()
        _wait_alive(cluster.conninfo("rig"), workers)
        yield Rig(cluster=cluster, server=server, workers=workers, env=rig_env, logs=logs)
    finally:
        if workers:
            workers.stop()
        if server:
            server.stop()
        cluster.destroy()
        shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture
def rig(_rig: Rig) -> Rig:
    """The rig, emptied for this test, with a fresh record of worker exits."""
    if not _rig.cluster.is_up():  # a fault test that failed halfway
        _rig.cluster.start()
    _rig.empty()
    _wait_alive(_rig.conninfo, _rig.workers)  # a worker the last test killed is back
    _rig.workers.forget_exits()
    return _rig
