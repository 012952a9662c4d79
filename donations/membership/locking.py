"""Race-safe building blocks: insert-if-absent and row locks, for PostgreSQL and SQLite.

Stripe may deliver the same or related events at the same moment to different processes,
so "find or create" must lean on unique constraints and row locks, never on in-process locks.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from donations.extensions import db

T = TypeVar("T")


def insert_if_absent(model: type[T], key: str, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING: the first writer wins, the others wait and skip.

    Returns True when this call inserted the row.
    """
    table = model.__table__  # type: ignore[attr-defined]
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here. The
    # values go as parameters of one statement built once: the webhook endpoint runs this for
    # every delivery, and building the statement anew cost as much as sending it.
    inserted = _unless_present(table, key).returning(table.c[key])
    return db.session.execute(inserted, _with_defaults(table, values)).first() is not None


def insert_all_if_absent(model: type[T], key: str, rows: list[dict[str, Any]]) -> None:
    """insert_if_absent for many rows: one executemany, which psycopg sends as one pipeline."""
    if rows:
        table = model.__table__  # type: ignore[attr-defined]
        db.session.execute(_unless_present(table, key), [_with_defaults(table, r) for r in rows])


def _unless_present(target: Any, key: str) -> Any:
    # Values go in as parameters, never into the statement: then SQLAlchemy compiles it once
    # and reuses it (a multi-row VALUES statement can't be cached and is compiled every time).
    return _insert_on_conflict(target, key, db.session.get_bind().dialect.name)


@functools.lru_cache(maxsize=64)
def _insert_on_conflict(target: Any, key: str, dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(target).on_conflict_do_nothing(index_elements=[key])


def _with_defaults(table: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The row with its columns' defaults filled in (callable ones called, as the ORM would)."""
    defaults = {
        column.name: column.default.arg(None) if column.default.is_callable else column.default.arg
        for column in table.columns
        if column.default is not None and column.name not in values and not column.primary_key
    }
    return {**defaults, **values}


def locked(model: type[T], column: Any, value: Any) -> T | None:
    """Fetch one row by a unique column and lock it until the transaction ends."""
    return db.session.scalar(
        select(model)
        .where(column == value)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def get_or_create_locked(model: type[T], column: Any, value: Any, values: dict[str, Any]) -> T:
    """Return the row with this unique value, creating it first if needed; locked either way."""
    row = locked(model, column, value)
    if row is None:
        # A row we insert is ours until we commit: RETURNING hands it over without reading
        # it again (one round trip less per new supporter, membership or payment).
        table = model.__table__  # type: ignore[attr-defined]
        inserted = _unless_present(model, column.key).values(
            **_with_defaults(table, {column.key: value, **values})
        )
        row = db.session.scalars(
            inserted.returning(model).execution_options(populate_existing=True)
        ).first()
    if row is None:  # another transaction made it first: wait for it, then lock it
        row = locked(model, column, value)
    assert row is not None
    return row
