"""Race-safe building blocks: insert-if-absent and row locks, for PostgreSQL and SQLite.

Stripe may deliver the same or related events at the same moment to different processes,
so "find or create" must lean on unique constraints and row locks, never on in-process locks.
"""

from __future__ import annotations

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
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here.
    inserted = _insert_unless_present(table, key, values).returning(table.c[key])
    return db.session.execute(inserted).first() is not None


def insert_all_if_absent(model: type[T], key: str, rows: list[dict[str, Any]]) -> None:
    """insert_if_absent for many rows in one statement (rows with the same keys)."""
    if rows:
        db.session.execute(_insert_unless_present(model, key, *rows))


def _insert_unless_present(target: Any, key: str, *rows: dict[str, Any]) -> Any:
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    table = getattr(target, "__table__", target)
    defaulted = [
        column
        for column in table.columns
        if column.default is not None and column.name not in rows[0] and not column.primary_key
    ]

    def with_defaults(values: dict[str, Any]) -> dict[str, Any]:
        # Callable defaults (utcnow) are called for each row, as the ORM would.
        arg = lambda c: c.default.arg(None) if c.default.is_callable else c.default.arg  # noqa: E731
        return {**{c.name: arg(c) for c in defaulted}, **values}

    statement = module.insert(target).values([with_defaults(values) for values in rows])
    return statement.on_conflict_do_nothing(index_elements=[key])


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
        inserted = _insert_unless_present(model, column.key, {column.key: value, **values})
        row = db.session.scalars(
            inserted.returning(model).execution_options(populate_existing=True)
        ).first()
    if row is None:  # another transaction made it first: wait for it, then lock it
        row = locked(model, column, value)
    assert row is not None
    return row
