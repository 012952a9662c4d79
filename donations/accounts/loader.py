"""How Flask-Login finds the user behind a session cookie, and its site-wide settings."""

from __future__ import annotations

from flask_login import LoginManager

from donations.accounts.sessions import user_for_session
from donations.models import User


def configure_login(manager: LoginManager) -> None:
    """Give Flask-Login our user loader, login page and session protection."""
    manager.login_view = "accounts.login"
    manager.login_message = "Please log in to see that page."
    manager.login_message_category = "info"
    # "basic" (not "strong"): readers on phones change IP often and should stay logged in.
    # Logging out, "log out everywhere" and a new password end sessions on the server.
    manager.session_protection = "basic"
    manager.user_loader(load_user)


def load_user(session_id: str) -> User | None:
    """Return the user of a live login session "<id>:<key>", or None when it has ended."""
    return user_for_session(session_id)
