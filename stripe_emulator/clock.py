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
# Once a transaction has moved the clock, it stands still at the moment reached until the
# transaction ends: else the wall clock's next second could slip into a retry that Stripe
# stamps exactly at the invoice's next_payment_attempt.
_PINNED: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "stripe_emulator_clock_pinned", default=None
)


def pinned() -> int | None:
    """The moment the current transaction's clock stands at, if it was moved."""
    return _PINNED.get()


def offset() -> int:
    """Seconds the emulator's clock is ahead of real time in the current transaction."""
    return _OFFSET.get()


@contextmanager
def ahead_by(seconds: int) -> Iterator[None]:
    """Run a block with the clock `seconds` ahead of real time."""
    token = _OFFSET.set(seconds)
    pin = _PINNED.set(None)
    try:
        yield
    finally:
        _PINNED.reset(pin)
        _OFFSET.reset(token)


def move_to(seconds: int, at: int) -> None:
    """Set the offset, and stand at `at`, for the rest of the transaction (ahead_by restores)."""
    _OFFSET.set(seconds)
    _PINNED.set(at)
