"""What an anonymous GET does not need: session signing, CSRF and rate-limit checks.

Measured in process (bench/inprocess.py): on /api/progress these hooks cost more than the
view. Reads carry no form to protect and no limit to count (every limit here is on a POST),
so their hooks are skipped for GET, HEAD and OPTIONS; a write goes through all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

READS = frozenset(("GET", "HEAD", "OPTIONS"))


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the signing set-up when nothing needs it."""

    def open_session(self, app, request):
        """An empty session for a request without a cookie, else Flask's own."""
        if app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        """Nothing to write for an empty, unchanged session; else Flask's own."""
        if not session and not session.modified:
            # Flask-Login reads the session on every response, so "accessed" says little:
            # a public page set its own Vary (http_cache.public_page); others keep Flask's.
            if session.accessed and "public" not in response.headers.get("Cache-Control", ""):
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def writes_only(hook: Callable[..., Any]) -> Callable[..., Any]:
    """Run a before- or after-request hook only for methods that change something."""

    def on_writes(*args: Any) -> Any:
        if request.method in READS:
            return args[0] if args else None  # an after-request hook hands the response on
        return hook(*args)

    return on_writes


def trim_reads(app: Flask) -> None:
    """Use lean sessions, and skip the CSRF and rate-limit hooks on reads."""
    from donations.extensions import limiter

    app.session_interface = CookieSessions()

    def is_write_hook(hook: Callable[..., Any]) -> bool:
        if hook == limiter._check_request_limit:
            return True
        if isinstance(hook, partial) and hook.args == (limiter,):  # its header injection
            return True
        return getattr(hook, "__module__", "") == "flask_wtf.csrf"

    for hooks in (app.before_request_funcs, app.after_request_funcs):
        for key, funcs in hooks.items():
            hooks[key] = [writes_only(f) if is_write_hook(f) else f for f in funcs]
