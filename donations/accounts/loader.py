"""How Flask-Login finds the user behind a session cookie."""

from __future__ import annotations

from donations.extensions import db, login_manager
from donations.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the user for a session's id, or None when it no longer exists."""
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None
