"""The read behind every logged-in request: session, person and membership state, one query.

A logged-in reader's page needs three facts on every request: that the login session is still
live (logging out, "log out everywhere" and a new password delete its row), who the person is,
and whether they are a member (the navigation and the support box). They are read together, in
one statement built once, on a connection of their own that needs no transaction (one
statement sees one snapshot) and no ping before use: a connection that died since it was last
used (a PostgreSQL restart) fails the statement, SQLAlchemy then drops every pooled connection
made before, and the read is tried once more on a new one. Nothing here is kept between
requests: every request reads the database.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import bindparam, create_engine, exists, select
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.pool import NullPool

from donations.models import LoginSession, Membership, User
from donations.models.statuses import MEMBER_STATUSES

READER_KEY = "login_read"
_lock = threading.Lock()

_USER_COLUMNS = tuple(User.__table__.columns)
_USER_KEYS = tuple(User.__mapper__.get_property_by_column(c).key for c in _USER_COLUMNS)
_USER_MANAGER = manager_of_class(User)
_PASSWORD = _USER_KEYS.index("password_hash")
# Built once: SQLAlchemy keeps its compiled form, so a request pays for neither.
LOGIN_READ = (
    select(
        *_USER_COLUMNS,
        # Membership.is_member's rule, with one bound value per status: an expanding IN
        # would be re-rendered on every execution.
        exists()
        .where(
            Membership.user_id == User.id,
            Membership.status.in_([bindparam(f"status_{s}", s) for s in sorted(MEMBER_STATUSES)]),
            Membership.grace_expired.is_(False),
        )
        .label("is_member"),
        exists().where(Membership.user_id == User.id).label("had_membership"),
    )
    .join_from(User, LoginSession, LoginSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        LoginSession.key_hash == bindparam("key_hash"),
        LoginSession.expires_at > bindparam("now", type_=LoginSession.expires_at.type),
    )
)


class _Reader:
    """The read's engine and, on PostgreSQL, its statement compiled for the driver itself."""

    def __init__(self, config: dict[str, Any]) -> None:
        url = config["SQLALCHEMY_DATABASE_URI"]
        if url.startswith("sqlite"):
            # A file on this machine (tests): opening it is cheap; nothing outlives a request.
            self.engine = create_engine(url, poolclass=NullPool)
            self.sql = None
            return
        self.engine = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_pre_ping=False,
            pool_size=2,  # a sync worker needs one; a thread of gthread another
            max_overflow=8,
        )
        # On PostgreSQL the statement goes to psycopg as text: what SQLAlchemy adds around an
        # execution (its cache lookup, an execution context, a result object) cost more than
        # the query. psycopg prepares it on the server after a few runs.
        compiled = LOGIN_READ.compile(dialect=self.engine.dialect)
        self.sql = str(compiled)
        self.defaults = dict(compiled.params)
        dialect = self.engine.dialect
        self.processors = [
            c.type.result_processor(dialect, None) or (lambda value: value) for c in _USER_COLUMNS
        ]

    def read(self, params: dict[str, Any]) -> tuple | None:
        if self.sql is None:
            with self.engine.connect() as conn:
                row = conn.execute(LOGIN_READ, params).first()
            return tuple(row) if row is not None else None
        for attempt in (1, 2):
            raw = self.engine.raw_connection()
            try:
                found = raw.driver_connection.execute(self.sql, {**self.defaults, **params})
                row = found.fetchone()
            except self.engine.dialect.loaded_dbapi.OperationalError:
                # A connection that died while pooled (a PostgreSQL restart): drop it and every
                # other pooled one, and try once more on a new connection.
                raw.invalidate()
                self.engine.dispose()
                if attempt == 2:
                    raise
                continue
            finally:
                raw.close()
            if row is None:
                return None
            users = tuple(p(v) for p, v in zip(self.processors, row, strict=False))
            return users + tuple(row[len(users) :])
        return None  # pragma: no cover - the loop returns or raises


def _reader(app: Flask) -> _Reader:
    reader = app.extensions.get(READER_KEY)
    if reader is None:
        with _lock:
            reader = app.extensions.get(READER_KEY)
            if reader is None:
                reader = app.extensions[READER_KEY] = _Reader(app.config)
    return reader


def dispose(app: Flask) -> None:
    """Close this app's connections for the read (tests)."""
    reader = app.extensions.pop(READER_KEY, None)
    if reader is not None:
        reader.engine.dispose()


def read_login(user_id: int, key_hash: str, now: datetime) -> tuple | None:
    """The row of a live session's person and their member flags, or None."""
    reader = _reader(current_app._get_current_object())  # type: ignore[attr-defined]
    return reader.read({"user_id": user_id, "key_hash": key_hash, "now": now})


def password_hash_of(row: tuple) -> str | None:
    """The person's password hash in a read's row (None: a supporter without a login)."""
    return row[_PASSWORD]


def user_from_row(row: Any) -> User:
    """A User object from the read's row, with no query (loaded, not in any session yet)."""
    # A worker's first request may come before any query has set the mappers up; building an
    # instance by hand does not do it for us (it is a no-op once done).
    configure_mappers()
    user = _USER_MANAGER.new_instance()
    # Straight into the instance's dict, as the ORM's loader does: make_transient_to_detached
    # then commits every attribute (none is "changed") and gives the identity key.
    user.__dict__.update(zip(_USER_KEYS, row, strict=False))
    make_transient_to_detached(user)
    # Read with the login, in the same statement: the navigation and the support box use it
    # while the request has not touched the database otherwise (membership.view).
    is_member, had_membership = row[len(_USER_KEYS) :]
    user.membership_state = "member" if is_member else "lapsed" if had_membership else None
    return user
