"""The queue worker on PostgreSQL (issue 18): a real `flask webhooks work` whose connection is
killed under it, a real statement timeout, and two workers on a renewal day's mix."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from donations.extensions import db
from donations.facts.facts import EventFact
from donations.membership.progress import get_progress, recount_members
from donations.models import StripeEvent
from donations.payments import ledger
from donations.payments.queue import work
from tests import conftest
from tests.factories import run_queue_workers
from tests.payments.storm_mix import gift_events, member_events
from tests.payments.stripe_events import World

pytestmark = pytest.mark.postgres_only  # backends, locks and timeouts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def delivery():
    return {"WEBHOOK_QUEUE": "1"}


def _store(events: list[dict]) -> None:
    """Store events as the endpoint does (in this order), waiting for a worker."""
    for event in events:
        ledger.record(EventFact.from_payload(event, raw=json.dumps(event)))
    db.session.commit()


def _count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(StripeEvent).where(*where))


def _subscriptions(n: int) -> list[dict]:
    world = World()
    return [
        world.event(
            "customer.subscription.created", world.subscription(f"sub_{i}", f"cus_{i}", "active")
        )
        for i in range(n)
    ]


def _worker(tmp_path: Path, app_name: str) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "DATABASE_URL": conftest.TEST_DATABASE_URL,
        "APP_ENV": "development",
        "SECRET_KEY": "worker-test-" + "k" * 40,
        "STRIPE_SECRET_KEY": "",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "WEBHOOK_QUEUE": "1",
        "REDIS_URL": "",
        "MAIL_SERVER": "",
        "LOG_FORMAT": "text",
        "PGAPPNAME": app_name,  # libpq: how the test finds this worker's backend
    }
    log = tmp_path / "worker.log"
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "work", "--batch", "20"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, log


def _kill_busy_backend(admin, app_name: str) -> bool:
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND state <> 'idle' AND pid <> pg_backend_pid()"
            ),
            {"name": app_name},
        ).all()
    return bool(killed)


def test_a_worker_survives_its_busy_backend_killed_three_times(app, tmp_path):
    events = _subscriptions(1500)
    _store(events)
    app_name = f"h1-worker-test-{os.getpid()}"
    proc, log = _worker(tmp_path, app_name)
    admin = create_engine(conftest.TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        kills, deadline = 0, time.monotonic() + 60
        while kills < 3 and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            if _kill_busy_backend(admin, app_name):
                kills += 1
                time.sleep(0.3)  # let it reconnect and take up its batch again
            else:
                time.sleep(0.005)
        assert kills == 3, "the worker was never busy when looked at"
        while _count(StripeEvent.status == "processed") < len(events):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        assert proc.poll() is None  # it went on by itself
    finally:
        proc.send_signal(signal.SIGTERM)
        exit_code = proc.wait(30)
        admin.dispose()
    output = log.read_text()
    assert exit_code == 0, output
    assert output.count("database unavailable") >= 3, output
    db.session.expire_all()
    assert _count(StripeEvent.attempts != 1) == 0  # exactly once, and no attempt counted
    assert get_progress(fresh=True).members == len(events) == recount_members()


def test_a_statement_timeout_fails_its_event_and_the_worker_goes_on(app, db, monkeypatch):
    world = World()
    charges = [
        world.event("charge.succeeded", world.charge(f"ch_{i}", f"pi_{i}", customer=f"cus_{i}"))
        for i in range(3)
    ]
    poison = charges[1]["data"]["object"]["id"]
    real = ledger.HANDLERS["charge.succeeded"]
    calls: list[str] = []

    def slow(fact, at):
        calls.append(fact.id)
        if fact.id == poison:
            db.session.execute(text("SET LOCAL statement_timeout = '50ms'"))
            db.session.execute(text("SELECT pg_sleep(2)"))
        return real(fact, at)

    monkeypatch.setitem(ledger.HANDLERS, "charge.succeeded", slow)
    _store(charges)
    done = work(
        livemode=not app.config["STRIPE_TEST_MODE"],
        installation=app.config["INSTALLATION_TAG"],
        stop=lambda: False,
        once=True,
    )
    db.session.expire_all()
    assert done == 3 and calls.count(poison) == 1  # not an outage: no loop
    rows = {r.stripe_event_id: r for r in db.session.scalars(select(StripeEvent))}
    failed = rows.pop(charges[1]["id"])
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "QueryCanceled" in failed.error
    assert {(r.status, r.attempts) for r in rows.values()} == {("processed", 1)}


def _deadlocks() -> int:
    engine = create_engine(conftest.TEST_DATABASE_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return conn.execute(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
    finally:
        engine.dispose()


def test_two_workers_on_a_renewal_days_mix_never_deadlock(app, db, caplog):
    rng = random.Random(18)
    world = World()
    members, cancelling = 80, set(rng.sample(range(80), 16))
    events = [e for n in range(members) for e in member_events(world, n, n in cancelling)]
    events += [e for n in range(40) for e in gift_events(world, n)]
    rng.shuffle(events)
    _store(events)
    before = _deadlocks()
    caplog.set_level(logging.WARNING, logger="donations")
    done = run_queue_workers(app, batch=20, timeout=120)
    db.session.remove()
    db.engine.dispose()  # the workers' backends end, and report their statistics
    time.sleep(0.5)
    assert sum(done) == len(events) and all(done), done
    assert not [r for r in caplog.records if "deadlock" in r.getMessage().lower()]
    assert _deadlocks() == before
    assert _count(StripeEvent.status != "processed") == 0
    assert _count(StripeEvent.attempts != 1) == 0
    assert get_progress(fresh=True).members == members - len(cancelling) == recount_members()
