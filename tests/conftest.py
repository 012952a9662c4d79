"""Shared fixtures: app, client, db, runner, a fresh database per test, SQLite or PostgreSQL.

Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the
whole suite on PostgreSQL; otherwise every test gets its own SQLite file, a copy of a schema
built once per run (copying a file is much faster than creating every table again). On
PostgreSQL each run makes its own database next to the given one (test_run_<pid>), creates
the schema once, empties the tables after each test, and drops the database at the end, so
two runs on one server (a developer's and CI's) never trample each other.

Passwords are hashed with a cheap scrypt here (PASSWORD_HASH_METHOD, honoured only when
TESTING): full-cost scrypt would spend a quarter of a second on every sign-up and login.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import settings
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.routing import Rule
from werkzeug.serving import BaseWSGIServer, make_server

import donations.models  # noqa: F401  (every table on the metadata, for schema_template)
from donations import create_app
from donations.accounts import login_read
from donations.core.mail_sender import SendReport, send_all_due
from donations.extensions import db as _db
from tests.factories import login, make_user
from tests.smtpserver import SMTPServer

# Hypothesis: each example builds database rows, so no per-example deadline (a busy machine
# would turn timing into flaky failures), and a failure prints the blob that replays it.
# `--hypothesis-profile=thorough` hunts longer, by hand.
settings.register_profile("suite", max_examples=30, deadline=None, print_blob=True)
settings.register_profile("thorough", parent=settings.get_profile("suite"), max_examples=500)
# `make quick`, the inner loop: a few examples each; `make test` runs the suite's 30.
settings.register_profile("quick", parent=settings.get_profile("suite"), max_examples=5)
settings.load_profile("suite")

# The PostgreSQL-only tests' own cluster when no TEST_DATABASE_URL is given (tests/pgserver.py).
pytest_plugins = ["tests.pgserver"]

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
    # Under pytest-xdist the controller runs no tests: only its workers need a database.
    controller = getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput")
    if not ON_POSTGRES or controller:
        return
    server = make_url(SERVER_DATABASE_URL)
    name = f"{server.database}_run_{os.getpid()}"
    engine = _admin_engine()
    with engine.connect() as conn:
        _drop_stale_run_databases(conn, server.database)
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A throwaway database need not wait for its WAL to reach the disk at each commit.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
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


def _empty_all(app: Flask) -> None:
    """Delete every row and restart the id sequences: the next test starts as on a new schema.

    DELETE, children first, rather than TRUNCATE: on a test's handful of rows it takes a few
    milliseconds, where TRUNCATE of every table took a sixth of a second per test.
    """
    with app.app_context():
        for table in reversed(_db.metadata.sorted_tables):
            # The member counter's one row is part of the schema (made with the table).
            if table.name != "member_counter":
                _db.session.execute(table.delete())
        _db.session.execute(text("UPDATE member_counter SET members = 0"))
        _db.session.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
        _db.session.commit()


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def base_config(tmp_path: Path) -> dict[str, Any]:
    """Settings every test app starts from; tests override what they need."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": TEST_DATABASE_URL or _sqlite_url(tmp_path / "test.sqlite3"),
        # Cheap scrypt (N=256, the least OpenSSL allows with r=8) instead of N=32768: the same
        # format and code path, a millisecond instead of a quarter second.
        "PASSWORD_HASH_METHOD": "scrypt:256:8:1",
        "STRIPE_SECRET_KEY": "",
        "STRIPE_EMULATOR_DB": str(tmp_path / "stripe-emulator.sqlite3"),
        # Tests deliver the emulator's webhooks themselves (emulator.deliver_pending()).
        "STRIPE_EMULATOR_BACKGROUND": False,
        "STRIPE_EMULATOR_RETRY_BASE": 0.01,
        "SITE_URL": "http://localhost",
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": "",
        # This run's own rate-limit counters: a Redis shared with other runs (a developer's and
        # CI's, at the same moment) must not lend them its counts for 127.0.0.1.
        "RATELIMIT_KEY_PREFIX": f"donations-tests-{os.getpid()}",
        "MAIL_SERVER": "",
    }


# Database files go to RAM when the machine has a tmpfs there: on a disk every SQLite commit
# waits for an fsync (about 8 ms each here), which is most of what a webhook test does.
RAM = Path("/dev/shm")  # noqa: S108  (a private mkdtemp folder is made inside)


@pytest.fixture(scope="session")
def _ram_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not (RAM.is_dir() and os.access(RAM, os.W_OK)):
        yield tmp_path_factory.mktemp("databases")
        return
    for stale in RAM.glob("donations-tests-*"):  # left by runs that were killed
        pid = stale.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    root = Path(tempfile.mkdtemp(prefix=f"donations-tests-{os.getpid()}-", dir=RAM))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fast_path(_ram_root: Path) -> Iterator[Path]:
    """A fresh folder for this test's database files: in RAM when possible, else on disk."""
    path = Path(tempfile.mkdtemp(dir=_ram_root))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The full, empty schema, made once per run.

    SQLite: a template file, which each test copies. PostgreSQL: the tables, created once in
    this run's database and emptied after every test; there is nothing to copy (None).
    """
    if ON_POSTGRES:
        engine = create_engine(TEST_DATABASE_URL)
        _db.metadata.create_all(engine)
        engine.dispose()
        return None
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    engine = create_engine(_sqlite_url(path))
    _db.metadata.create_all(engine)
    engine.dispose()
    return path


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in memory and shared by every app of the run.

    Each test's app has a new Jinja environment, which would parse and compile every template
    it renders again: a quarter of the suite's time. Jinja keys the cache by template name and
    checks the source's checksum, so an edited template is compiled afresh.
    """

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


def _share_url_builders() -> None:
    """Compile each URL rule's builder once per run instead of once per test app.

    Werkzeug writes and compiles a small Python function for every rule of every new app (half
    of create_app's time; create_app runs for nearly every test). The function depends only on
    the rule's text, its parsed parts, its defaults and its converters, and takes the rule as
    its first argument, so apps built from the same code can share it. Skipped if a future
    Werkzeug renames the private method: the suite is then slower, never wrong.
    """
    original = getattr(Rule, "_compile_builder", None)
    if original is None:
        return
    built: dict[tuple[Any, ...], Any] = {}

    def compile_builder(self: Rule, append_unknown: bool = True) -> Any:
        key = (
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            tuple(sorted((name, type(conv)) for name, conv in self._converters.items())),
            append_unknown,
        )
        if key not in built:
            built[key] = original(self, append_unknown)
        return built[key]

    Rule._compile_builder = compile_builder


_share_url_builders()


@pytest.fixture
def make_app(
    tmp_path: Path,
    fast_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    schema_template: Path | None,
) -> Iterator[Callable[..., Flask]]:
    """Build an app on a fresh, empty schema; keyword arguments override settings.

    Several apps in one test share that test's database (a restart, or a second process).
    """
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    made: list[Flask] = []
    own_sqlite = fast_path / "test.sqlite3"

    def factory(**overrides: Any) -> Flask:
        config = {**base_config(fast_path), **overrides}
        ready = ON_POSTGRES and config["DATABASE_URL"] == TEST_DATABASE_URL
        if schema_template and config["DATABASE_URL"] == _sqlite_url(own_sqlite):
            if not own_sqlite.exists():
                shutil.copyfile(schema_template, own_sqlite)
            ready = True
        app = create_app(config)
        app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        if not ready:  # a database of the test's own choosing
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
            if ON_POSTGRES and app.config["DATABASE_URL"] == TEST_DATABASE_URL:
                _empty_all(app)
            _db.engine.dispose()
        login_read.dispose(app)  # the logged-in read's own connections


# A spare Redis database number, never an app's. CI sets TEST_REDIS_URL (and starts Redis), so
# there a missing Redis fails the tests that need one; elsewhere they skip, saying why.
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_url() -> str:
    """The URL of a live Redis for the tests that need one."""
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("TEST_REDIS_URL"):
            pytest.fail(f"TEST_REDIS_URL is set but no Redis answers at {REDIS_TEST_URL}")
        pytest.skip(f"no Redis at {REDIS_TEST_URL} (set TEST_REDIS_URL)")
    return REDIS_TEST_URL


@pytest.fixture
def mail_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captured mail (the app writes mail to the log when MAIL_SERVER is empty)."""
    caplog.set_level(logging.INFO, logger="donations.mail")
    return caplog


def mails(mail_log: pytest.LogCaptureFixture) -> list[str]:
    """Every mail written to the log so far, oldest first."""
    return [r.getMessage() for r in mail_log.records if r.name == "donations.mail"]


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) on a free port; make_app(**smtp_server.settings()) uses it."""
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def blink_database_once(monkeypatch, module, name: str) -> list[int]:
    """Make module.name raise a lost-connection error on its first call only; return the
    list its calls are counted in (the sender's loops must outlive a database blink)."""
    from sqlalchemy.exc import OperationalError

    real, calls = getattr(module, name), []

    def blinking(**kwargs):
        calls.append(1)
        if len(calls) == 1:  # the database goes away under the first look
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return real(**kwargs)

    monkeypatch.setattr(module, name, blinking)
    return calls


def flush_outbox() -> SendReport:
    """Send every mail of the outbox due now through the real sender (inside an app context).

    Requests try their own mails after the response; the webhook worker and `flask mail work`
    send the rest. Tests that assert a mail arrived call this, as a sender would run.
    """
    return send_all_due()


@pytest.fixture
def delivery() -> dict[str, Any]:
    """How the emulator delivers webhooks: in order by default; flow and browser tests
    override this with the chaotic mode (shuffled, duplicated, concurrent) under 3 seeds."""
    return {}


@pytest.fixture
def app(make_app: Callable[..., Flask], delivery: dict[str, Any]) -> Iterator[Flask]:
    """The application under test, inside an app context."""
    application = make_app(**delivery)
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


@pytest.fixture
def emulator(app: Flask) -> Any:
    """The app's Stripe emulator; its signed events go to /stripe/webhook through a test client.

    Deliveries are synchronous here (call emulator.deliver_pending()), so tests are exact.
    """
    emu = app.extensions["stripe_emulator"]
    webhook_client = app.test_client()

    def transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        response = webhook_client.post("/stripe/webhook", data=body, headers=headers)
        response.close()  # as a server does: runs what the app sends after the response
        return response.status_code

    emu.deliverer.transport = transport
    return emu


@pytest.fixture
def staff(db):
    """A staff account."""
    return make_user(email="editor@example.org", is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    """A test client logged in as staff."""
    login(client, staff)
    return client


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
def live_server(make_app: Callable[..., Flask], delivery: dict[str, Any]) -> Iterator[LiveServer]:
    """Serve a fresh app (CSRF on, as in production) on a free loopback port."""
    dispatcher = _Dispatcher()
    server: BaseWSGIServer = make_server("127.0.0.1", 0, dispatcher, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # As in production: CSRF on, and the emulator delivers webhooks over HTTP in the background.
    dispatcher.app = make_app(
        SITE_URL=url, WTF_CSRF_ENABLED=True, STRIPE_EMULATOR_BACKGROUND=True, **delivery
    )
    # Polled every 50 ms rather than 0.5 s, so the shutdown at the end does not wait for it.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, app=dispatcher.app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
