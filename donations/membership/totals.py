"""Recurring totals: member memberships per (currency, interval, count, amount), kept at write
time."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from donations.extensions import db
from donations.membership import pending
from donations.models import Membership, RecurringTotal

Key = tuple[str, str, int, int]  # currency, interval, interval_count, amount


def billing_key(membership: Membership) -> Key | None:
    """What a membership adds to the totals: its billing, or None when it isn't a member."""
    if not membership.is_member:
        return None
    return (membership.currency, membership.interval, membership.interval_count, membership.amount)


def _add(key: Key, delta: int) -> None:
    currency, interval, interval_count, amount = key
    if delta < 0:
        # An UPDATE, not an upsert: the check constraint would refuse an inserted -1 row
        # before the conflict is even looked at.
        result = db.session.execute(
            update(RecurringTotal)
            .where(
                RecurringTotal.currency == currency,
                RecurringTotal.interval == interval,
                RecurringTotal.interval_count == interval_count,
                RecurringTotal.amount == amount,
            )
            .values(memberships=RecurringTotal.memberships + delta)
        )
        if result.rowcount != 1:
            raise RuntimeError(f"recurring totals have no row for {key}: they drifted")
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(RecurringTotal).values(
        currency=currency,
        interval=interval,
        interval_count=interval_count,
        amount=amount,
        memberships=delta,
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["currency", "interval", "interval_count", "amount"],
            set_={"memberships": RecurringTotal.memberships + statement.excluded.memberships},
        )
    )


def moves(before: Key | None, after: Key | None) -> dict[Key, int]:
    """What moving one membership from one total to another (either may be None) changes."""
    if before == after:
        return {}
    return {key: delta for key, delta in ((before, -1), (after, +1)) if key is not None}


def move(before: Key | None, after: Key | None) -> None:
    """Move one membership from one total to another (either may be None)."""
    move_all(moves(before, after))


def move_all(moves: dict[Key, int]) -> None:
    """Move many memberships at once: each total by its net change, in key order.

    Inside a worker's batch (membership.pending) the changes are collected, to be written at
    its end.
    """
    collected = pending.current()
    if collected is not None:
        collected.totals.update(moves)
        return
    # Always in key order, so two transactions can never wait on each other's rows.
    for key in sorted(moves):
        if moves[key]:
            _add(key, moves[key])


def totals_from_scratch() -> dict[Key, int]:
    """Recount the totals from the memberships themselves."""
    columns = (
        Membership.currency,
        Membership.interval,
        Membership.interval_count,
        Membership.amount,
    )
    rows = db.session.execute(
        select(*columns, func.count()).where(Membership.is_member).group_by(*columns)
    )
    return {(c, i, k, a): n for c, i, k, a, n in rows}


def maintained_totals() -> dict[Key, int]:
    """The maintained totals, without empty rows (one query: the dashboard's revenue too)."""
    rows = db.session.execute(
        select(
            RecurringTotal.currency,
            RecurringTotal.interval,
            RecurringTotal.interval_count,
            RecurringTotal.amount,
            RecurringTotal.memberships,
        ).where(RecurringTotal.memberships > 0)
    )
    return {(c, i, k, a): n for c, i, k, a, n in rows}


def rebuild() -> None:
    """Replace the totals with a recount (after bulk loads that bypass the transitions)."""
    db.session.execute(delete(RecurringTotal))
    rows = [
        {"currency": c, "interval": i, "interval_count": k, "amount": a, "memberships": n}
        for (c, i, k, a), n in totals_from_scratch().items()
    ]
    if rows:
        db.session.execute(insert(RecurringTotal), rows)
