"""The emulator's clock: real time plus an offset that a test control moves forward.

Stripe's own clock cannot be moved, but Checkout Sessions expire and refunds settle "some
time later"; tests reach those moments by advancing this clock instead of waiting. The
offset lives in the state file (so every process agrees) and is read once per transaction.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

OFFSET_SETTING = "clock_offset"

_OFFSET: contextvars.ContextVar[int] = contextvars.ContextVar(
    "stripe_emulator_clock_offset", default=0
)


def offset() -> int:
    """Seconds the emulator's clock is ahead of real time in the current transaction."""
    return _OFFSET.get()


@contextmanager
def ahead_by(seconds: int) -> Iterator[None]:
    """Run a block with the clock `seconds` ahead of real time."""
    token = _OFFSET.set(seconds)
    try:
        yield
    finally:
        _OFFSET.reset(token)


def move_to(seconds: int) -> None:
    """Set the offset for the rest of the current transaction (ahead_by restores it after)."""
    _OFFSET.set(seconds)
