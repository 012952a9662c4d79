"""Who is anonymous, one rule for the app and nginx: a request without a `session` and without
a `remember_token` cookie.

nginx's micro-cache (deploy/nginx/donations.conf) and the page cache (core/http_cache.py) both
test a request's Cookie header with ANONYMOUS_RULE's regex, so they always agree. For that rule
to leave public pages public for readers who opened a form or paid, the session of a reader
we don't know (a form's CSRF token, the visitor key of a payment, what logging out leaves) is
kept in its own signed cookie, `anon_session`; the `session` cookie is written only once the
session names a reader (logged in). A cookie moves from one name to the other when that
changes, and the old one is deleted.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"
ANONYMOUS_COOKIE = "anon_session"
# The same regex as deploy/nginx/donations.conf's map (tests/test_deploy.py compares them).
ANONYMOUS_RULE = r"(^|;\s*)(session|remember_token)="
_KNOWN = re.compile(ANONYMOUS_RULE, re.IGNORECASE)
# What an anonymous reader's session may hold: a form's CSRF token, the key that makes a
# support payment idempotent, and what Flask-Login leaves after logging out.
ANONYMOUS_SESSION_KEYS = frozenset(("csrf_token", "visitor", "_fresh", "_permanent"))


def is_anonymous(cookie_header: str | None) -> bool:
    """True when a Cookie header carries neither our session nor a remember-me cookie."""
    return not cookie_header or _KNOWN.search(cookie_header) is None


def names_a_reader(session: Any) -> bool:
    """True when a session holds more than an anonymous reader's keys."""
    return not session.keys() <= ANONYMOUS_SESSION_KEYS


class _AnonymousCookie(SecureCookieSessionInterface):
    def get_cookie_name(self, app: Flask) -> str:
        return ANONYMOUS_COOKIE


class ReaderSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, under `session` for readers we know, else
    `anon_session`; no signing set-up for a request without either cookie."""

    anonymous = _AnonymousCookie()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The session from whichever of the two cookies the request carries (else empty)."""
        if SESSION_COOKIE in request.cookies:
            return super().open_session(app, request)
        if ANONYMOUS_COOKIE in request.cookies:
            return self.anonymous.open_session(app, request)
        return self.session_class()

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        """Write the session under the name its keys call for; delete the other name."""
        known = names_a_reader(session)
        keep, other = (self, self.anonymous) if known else (self.anonymous, self)
        if other.get_cookie_name(app) in request.cookies:
            # The session changed sides (logged in or out): it moves to the other cookie.
            session.modified = True
            response.delete_cookie(
                other.get_cookie_name(app),
                domain=self.get_cookie_domain(app),
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=self.get_cookie_httponly(app),
                samesite=self.get_cookie_samesite(app),
            )
        if not session and not session.modified:
            # Flask-Login reads the session on every response, so "accessed" says little: a
            # public page set its own Vary (http_cache.public_page); others keep Flask's.
            if session.accessed and "public" not in response.headers.get("Cache-Control", ""):
                response.vary.add("Cookie")
            return
        SecureCookieSessionInterface.save_session(keep, app, session, response)


def init_app(app: Flask) -> None:
    """Use the two-cookie sessions (config.py pins both cookie names nginx's rule names)."""
    app.session_interface = ReaderSessions()
