"""What the navigation and the support box show a logged-in reader: their membership state."""

from __future__ import annotations

from flask_login import current_user

from donations.extensions import db
from donations.membership.services import membership_state

_UNREAD = object()


def reader_membership_state() -> str | None:
    """ "member", "lapsed" or None for the logged-in reader, as of now.

    The login's read (accounts.login_read) brings it along in its one statement. It still
    holds while this request has not opened a database session: nothing it did could have
    changed a membership. A request that did (a payment's thanks page records one, and may
    have committed already) reads it again.
    """
    read = getattr(current_user, "membership_state", _UNREAD)
    if read is not _UNREAD and not db.session.registry.has():
        return read
    return membership_state(current_user.id)
