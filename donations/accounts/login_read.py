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
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, bindparam, create_engine, exists, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.pool import NullPool

from donations.models import LoginSession, Membership, User
from donations.models.statuses import MEMBER_STATUSES

ENGINE_KEY = "login_read_engine"
_lock = threading.Lock()

_USER_COLUMNS = tuple(User.__table__.columns)
_USER_KEYS = tuple(User.__mapper__.get_property_by_column(c).key for c in _USER_COLUMNS)
_USER_MANAGER = manager_of_class(User)
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


def _engine(app: Flask) -> Engine:
    """This process's engine for the read: the app's database, autocommit, no pre-ping."""
    engine = app.extensions.get(ENGINE_KEY)
    if engine is None:
        with _lock:
            engine = app.extensions.get(ENGINE_KEY)
            if engine is None:
                engine = app.extensions[ENGINE_KEY] = _make_engine(app.config)
    return engine


def _make_engine(config: dict[str, Any]) -> Engine:
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        # A file on this machine: opening it is cheap, and no connection outlives a request.
        return create_engine(url, poolclass=NullPool)
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=False,
        pool_size=config.get("LOGIN_READ_POOL_SIZE", 2),
        max_overflow=8,
    )


def dispose(app: Flask) -> None:
    """Close this app's connections for the read (tests, and a process that forks)."""
    engine = app.extensions.pop(ENGINE_KEY, None)
    if engine is not None:
        engine.dispose()


def read_login(user_id: int, key_hash: str, now: Any) -> Any:
    """The row of a live session's person with its member flags, or None; tried twice."""
    engine = _engine(current_app._get_current_object())  # type: ignore[attr-defined]
    params = {"user_id": user_id, "key_hash": key_hash, "now": now}
    for attempt in (1, 2):
        try:
            with engine.connect() as conn:
                return conn.execute(LOGIN_READ, params).first()
        except DBAPIError as exc:
            # A connection that died in the pool: SQLAlchemy invalidated it and every one made
            # before it, so the second try connects afresh. Anything else is raised.
            if attempt == 2 or not exc.connection_invalidated:
                raise
    return None  # pragma: no cover - the loop returns or raises


def user_from_row(row: Any) -> User:
    """A User object from the read's row, with no query (loaded, not in any session yet)."""
    user = _USER_MANAGER.new_instance()
    for key, value in zip(_USER_KEYS, row, strict=False):
        set_committed_value(user, key, value)
    make_transient_to_detached(user)
    # Read with the login, in the same statement: the navigation and the support box use it
    # while the request has not touched the database otherwise (support.routes).
    user.membership_state = "member" if row.is_member else "lapsed" if row.had_membership else None
    return user
