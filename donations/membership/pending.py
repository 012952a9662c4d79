"""Count changes held back until the end of a worker's batch, then written in one short go.

The member counter is one row and each recurring total a row per price: every member change
writes them. A worker's batch that wrote them as it went held those rows locked from its first
change to its commit, while it went on to lock people another worker's batch held: two workers
deadlocked (issue 18). Inside `collecting()` the changes are only added up here; the batch
writes them last (membership.deferred), in one order, just before it commits.

Each event runs in its own savepoint; `nested()` keeps what an event added apart until it
succeeds, so a failed event's changes are dropped with its rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from donations.extensions import db

_FRAMES = "pending_counts"

TotalKey = tuple[str, str, int, int]  # as membership.totals.Key: currency, interval, count, amount


@dataclass(eq=False)  # frames are told apart by identity, never by their sums
class Deltas:
    """Net changes to the member counter and to each recurring total."""

    members: int = 0
    totals: Counter[TotalKey] = field(default_factory=Counter)

    def merge(self, other: Deltas) -> None:
        """Add another's changes to these."""
        self.members += other.members
        self.totals.update(other.totals)


def _frames() -> list[Deltas]:
    return db.session.info.setdefault(_FRAMES, [])


def current() -> Deltas | None:
    """Where count changes go now: None when they are written at once (no batch collects)."""
    frames = db.session.info.get(_FRAMES)
    return frames[-1] if frames else None


@contextmanager
def collecting() -> Iterator[Deltas]:
    """Collect count changes made inside instead of writing them; yield what was collected."""
    frames = _frames()
    deltas = Deltas()
    frames.append(deltas)
    try:
        yield deltas
    finally:
        del frames[next(i for i, f in enumerate(frames) if f is deltas)]


@contextmanager
def nested() -> Iterator[None]:
    """Inside a collecting batch: keep this part's changes only if it ends without an error."""
    parent = current()
    if parent is None:
        yield
        return
    with collecting() as mine:
        yield
    parent.merge(mine)
