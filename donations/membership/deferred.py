"""Writing a batch's collected count changes (membership.pending) at its end, in one order."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from donations.extensions import db
from donations.membership import pending, totals
from donations.membership.progress import move_counter

log = logging.getLogger(__name__)


@contextmanager
def deferred_counts() -> Iterator[pending.Deltas]:
    """Apply a batch inside; on success write its count changes (write_counts)."""
    with pending.collecting() as deltas:
        yield deltas
    write_counts(deltas)


def write_counts(deltas: pending.Deltas) -> None:
    """The recurring totals in key order, then the counter: every batch locks them this way.

    Totals that drifted (a total to take a membership from has no row) must not cost the
    batch's events: they are rebuilt from the memberships, which this transaction has right.
    """
    moves = {key: n for key, n in deltas.totals.items() if n}
    try:
        with db.session.begin_nested():
            totals.move_all(moves)
    except RuntimeError:
        log.exception("recurring totals drifted; rebuilding them from the memberships")
        totals.rebuild()
    if deltas.members:
        move_counter(deltas.members)
