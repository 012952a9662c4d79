"""How Flask-Login finds the user behind a session cookie, and its site-wide settings."""

from __future__ import annotations

import hmac

from flask_login import LoginManager

from donations.extensions import db
from donations.models import User


def configure_login(manager: LoginManager) -> None:
    """Give Flask-Login our user loader, login page and session protection."""
    manager.login_view = "accounts.login"
    manager.login_message = "Please log in to see that page."
    manager.login_message_category = "info"
    # "basic" (not "strong"): readers on phones change IP often and should stay logged in.
    # Changing the password still ends every other session, through the id fingerprint below.
    manager.session_protection = "basic"
    manager.user_loader(load_user)


def load_user(session_id: str) -> User | None:
    """Return the user for a session id "<id>:<fingerprint>", or None when it is stale."""
    row_id, _, fingerprint = session_id.partition(":")
    if not row_id.isdigit() or not fingerprint:
        return None
    user = db.session.get(User, int(row_id))
    if user is None or user.password_hash is None:  # gone, or a supporter without a login
        return None
    return user if hmac.compare_digest(user.password_fingerprint(), fingerprint) else None
