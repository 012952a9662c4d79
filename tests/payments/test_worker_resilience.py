"""The queue worker outlives the database (issue 18): an outage or a lost race is never an
event's failed attempt, the batch is put back and tried again, and one poison event cannot
hold up the rest."""

from __future__ import annotations

import psycopg.errors
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, PendingRollbackError

from donations.core import dberrors
from donations.extensions import db
from donations.membership import records
from donations.membership.progress import get_progress, recount_members
from donations.models import Membership, StripeEvent, WebhookWorker
from donations.payments import ledger, queue, worker_loop
from donations.payments.queue import work
from tests.payments.stripe_events import World, post_event

REAL_BACKOFF = dberrors.backoff


@pytest.fixture
def delivery():
    return {"WEBHOOK_QUEUE": "1"}


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
    """Backoff and jitter in these tests: none (their length is not what is tested)."""
    monkeypatch.setattr(dberrors, "backoff", lambda attempt, **kw: 0.0)
    monkeypatch.setattr(dberrors, "jitter_sleep", lambda attempt: None)


def _outage() -> OperationalError:
    return OperationalError(
        "SELECT 1", None, Exception("server closed the connection unexpectedly")
    )


def _deadlock() -> OperationalError:
    return OperationalError("UPDATE", None, psycopg.errors.DeadlockDetected("deadlock detected"))


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (_outage(), dberrors.OUTAGE),
        (OperationalError("S", None, psycopg.errors.AdminShutdown("terminating connection")),
         dberrors.OUTAGE),
        (OperationalError("S", None, psycopg.errors.CannotConnectNow("starting up")),
         dberrors.OUTAGE),
        (OperationalError("S", None, psycopg.errors.ConnectionException("x")), dberrors.OUTAGE),
        (PendingRollbackError("rolled back due to a previous exception"), dberrors.OUTAGE),
        (DBAPIError("S", None, Exception("x"), connection_invalidated=True), dberrors.OUTAGE),
        (_deadlock(), dberrors.RETRY),
        (OperationalError("S", None, psycopg.errors.SerializationFailure("x")), dberrors.RETRY),
        # A statement timeout is the statement's: counted, so a poison event can't loop.
        (OperationalError("S", None, psycopg.errors.QueryCanceled("statement timeout")), None),
        (IntegrityError("S", None, psycopg.errors.UniqueViolation("duplicate key")), None),
        (RuntimeError("recurring totals have no row"), None),
    ],
)  # fmt: skip
def test_database_errors_are_told_apart(error, kind):
    assert dberrors.classify(error) == kind


def test_a_connection_lost_while_rolling_back_a_timeout_is_an_outage():
    try:
        try:
            raise OperationalError("S", None, psycopg.errors.QueryCanceled("statement timeout"))
        except OperationalError:
            raise _outage()  # noqa: B904  (as a rollback on a dead connection would)
    except OperationalError as exc:
        assert dberrors.classify(exc) == dberrors.OUTAGE


def test_an_outage_hidden_behind_a_later_error_is_still_an_outage():
    try:
        try:
            raise _outage()
        except OperationalError:
            raise PendingRollbackError("rolled back")  # noqa: B904
    except PendingRollbackError as exc:
        assert dberrors.classify(exc) == dberrors.OUTAGE


def test_backoff_grows_and_is_capped():
    waits = [max(REAL_BACKOFF(n) for _ in range(50)) for n in (1, 3, 10, 30)]
    assert waits[0] <= 0.1 + 1e-9 and waits[1] <= 0.4 and waits[3] <= 5.0
    assert waits[2] > 1.0  # grows: 0.1 · 2⁹ capped at 5, full jitter


def _events(app, world: World, n: int) -> list[dict]:
    events = [
        world.event(
            "customer.subscription.created",
            world.subscription(f"sub_{i}", f"cus_{i}", "active"),
        )
        for i in range(n)
    ]
    client = app.test_client()
    for event in events:
        response = post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
        assert response.json["status"] == "queued"
    return events


def _work(app, **kw) -> int:
    done = work(
        livemode=not app.config["STRIPE_TEST_MODE"],
        installation=app.config["INSTALLATION_TAG"],
        stop=lambda: False,
        once=True,
        **kw,
    )
    db.session.expire_all()
    return done


def _attempts() -> dict[str, tuple[str, int]]:
    rows = db.session.execute(select(StripeEvent.stripe_event_id, StripeEvent.status,
                                     StripeEvent.attempts))  # fmt: skip
    return {e: (s, a) for e, s, a in rows}


def _flaky(fails: list[int], error=_outage):
    """apply_subscription that raises `error()` while fails[0] > 0, then works."""
    real = records.apply_subscription

    def handler(fact, at):
        if fails[0] > 0:
            fails[0] -= 1
            raise error()
        return real(fact, at)

    return handler


@pytest.mark.parametrize("path", ["one by one", "together"])
def test_a_connection_lost_while_applying_is_no_attempt_and_the_batch_is_put_back(
    app, db, world, monkeypatch, path
):
    _events(app, world, 3)
    fails = [2]
    if path == "one by one":
        monkeypatch.setitem(ledger.HANDLERS, "customer.subscription.created", _flaky(fails))
        monkeypatch.setattr(queue, "apply_stored_many", _one_by_one())
    else:
        real = ledger.batch.apply_subscriptions

        def together(items):
            if fails[0] > 0:
                fails[0] -= 1
                raise _outage()
            return real(items)

        monkeypatch.setattr(ledger.batch, "apply_subscriptions", together)
    assert _work(app) == 3
    assert fails == [0]
    assert set(_attempts().values()) == {("processed", 1)}
    assert get_progress(fresh=True).members == 3 == recount_members()


def test_a_deadlock_is_tried_again_at_once_not_after_a_minute(app, db, world, monkeypatch):
    _events(app, world, 2)
    fails = [ledger.SAVEPOINT_TRIES + 1]  # more than its savepoint tries: the batch again
    monkeypatch.setitem(ledger.HANDLERS, "customer.subscription.created", _flaky(fails, _deadlock))
    monkeypatch.setattr(queue, "apply_stored_many", _one_by_one())
    assert _work(app) == 2
    assert set(_attempts().values()) == {("processed", 1)}  # no failed attempt, no 60 s wait
    assert get_progress(fresh=True).members == 2 == recount_members()


def _one_by_one():
    """apply_stored_many without its many-at-once path (so each event meets the handler)."""

    def apply(stored, livemode, installation):
        return [ledger.apply_stored(row, fact, livemode, installation) for row, fact in stored]

    return apply


def test_a_poison_event_is_isolated_so_the_rest_of_its_batch_goes_on(app, db, world, monkeypatch):
    events = _events(app, world, 10)
    poison = events[4]["data"]["object"]["id"]
    real = records.apply_subscription
    calls: list[str] = []

    def handler(fact, at):
        calls.append(fact.id)
        if fact.id == poison:
            raise _outage()  # e.g. a statement that kills its backend, every time
        return real(fact, at)

    monkeypatch.setitem(ledger.HANDLERS, "customer.subscription.created", handler)
    monkeypatch.setattr(queue, "apply_stored_many", _one_by_one())
    assert _work(app, batch=10) == 9
    attempts = _attempts()
    assert attempts.pop(events[4]["id"])[0] == "failed"
    assert set(attempts.values()) == {("processed", 1)}
    row = db.session.scalar(
        select(StripeEvent).where(StripeEvent.stripe_event_id == events[4]["id"])
    )
    assert row.attempts == 1 and row.error.startswith("set aside after 5 failures alone")
    # Three tries of the whole batch, then each event alone: the poison one five times.
    assert calls.count(poison) == worker_loop.ISOLATE_AFTER + worker_loop.GIVE_UP_AFTER
    assert get_progress(fresh=True).members == 9 == recount_members()


def test_a_bug_outside_the_handlers_does_not_end_the_worker(app, db, world, monkeypatch):
    _events(app, world, 2)
    real = queue.apply_stored_many
    fails = [1]

    def broken(stored, livemode, installation):
        if fails[0]:
            fails[0] -= 1
            raise ValueError("a bug")
        return real(stored, livemode, installation)

    monkeypatch.setattr(queue, "apply_stored_many", broken)
    assert _work(app) == 2
    assert set(_attempts().values()) == {("processed", 1)}


def test_the_worker_beats_while_it_runs_and_forgets_its_row_when_it_stops(
    app, db, world, monkeypatch
):
    seen: list[int] = []
    real = worker_loop.WorkerLoop.step

    def step(self):
        outcome = real(self)
        seen.append(db.session.scalar(select(func.count()).select_from(WebhookWorker)))
        return outcome

    monkeypatch.setattr(worker_loop.WorkerLoop, "step", step)
    _events(app, world, 1)
    assert _work(app) == 1
    assert seen and seen[0] == 1
    assert db.session.scalar(select(func.count()).select_from(WebhookWorker)) == 0


def test_a_failing_handler_is_still_the_events_own_failure(app, db, world, monkeypatch):
    _events(app, world, 1)
    fails = [1]
    monkeypatch.setitem(
        ledger.HANDLERS,
        "customer.subscription.created",
        _flaky(fails, lambda: ValueError("a broken payload")),
    )
    assert _work(app) == 1
    assert set(_attempts().values()) == {("failed", 1)}
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0
