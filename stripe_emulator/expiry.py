"""Checkout Sessions expire: at `expires_at` an open session becomes `expired` and can't be paid.

Stripe sends `checkout.session.expired` when that moment passes (docs.stripe.com/api/checkout/
sessions/object#checkout_session_object-expires_at; 24 hours after creation by default). The
emulator notices it when its clock is advanced, when someone tries to pay or opens the hosted
page, or when a test control expires a session now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import objects as o
from .errors import EmulatorError, invalid
from .forms import as_int
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

SESSION_TTL = 24 * 3600
MIN_TTL = 30 * 60
# Stripe's messages for an expires_at out of bounds (param `expires_at`).
_BOUND = (
    "at least 30 minutes from Checkout Session creation",
    "less than 24 hours from Checkout Session creation",
)


def expires_at(value: Any, created: int) -> int:
    """A new session's expires_at: 30 minutes to 24 hours after creation; 24 hours if not given."""
    if value in (None, ""):
        return created + SESSION_TTL
    ts = as_int(value, "expires_at")
    if ts < created + MIN_TTL:
        raise invalid("expires_at", f"The `expires_at` timestamp must be {_BOUND[0]}.")
    if ts > created + SESSION_TTL:
        raise invalid("expires_at", f"The `expires_at` timestamp must be {_BOUND[1]}.")
    return ts


def expire(emu: Emulator, tx: Tx, session: dict[str, Any]) -> dict[str, Any]:
    """Expire an open session: `checkout.session.expired`."""
    session.update(status="expired", url=None)
    tx.put(session)
    emu.emit(tx, "checkout.session.expired", session)
    return session


def is_due(session: dict[str, Any]) -> bool:
    """Whether an open session has reached its expires_at on the emulator's clock."""
    return session["status"] == "open" and o.now() >= session["expires_at"]


def expire_if_due(emu: Emulator, session_id: str) -> dict[str, Any] | None:
    """Expire one session if its time has come; return it (None if there is no such one)."""
    with emu.transaction() as tx:
        session = tx.get(session_id, "checkout.session")
        if session is not None and is_due(session):
            expire(emu, tx, session)
        return session


def expire_due(emu: Emulator, tx: Tx) -> list[str]:
    """Expire every open session whose expires_at has passed; return their ids."""
    due = [s for s in tx.list("checkout.session") if is_due(s)]
    for session in due:
        expire(emu, tx, session)
    return [s["id"] for s in due]


def expire_now(emu: Emulator, session_id: str) -> dict[str, Any]:
    """Test control: expire an open session now, as `POST .../expire` would."""
    with emu.transaction() as tx:
        session = tx.get(session_id, "checkout.session")
        if session is None:
            raise EmulatorError(f"No such checkout session: {session_id}")
        if session["status"] != "open":
            raise EmulatorError(f"Checkout Session {session_id} is {session['status']}.")
        return expire(emu, tx, session)
