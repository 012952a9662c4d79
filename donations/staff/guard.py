"""The staff role check: anonymous people go to login, logged-in non-staff get a 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from donations.extensions import login_manager


def refuse_non_staff() -> Any:
    """None for staff; otherwise the login redirect (anonymous) or a 403 (everyone else)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # redirects to /login?next=<this page>
    if not current_user.is_staff:
        abort(403)
    return None


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a view so only staff reach it."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        refused = refuse_non_staff()
        return refused if refused is not None else view(*args, **kwargs)

    return guarded
