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
import time
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"
ANONYMOUS_COOKIE = "anon_session"
# The same regex as deploy/nginx/donations.conf's map (tests/test_deploy.py compares them).
ANONYMOUS_RULE = r"(^|;\s*)(session|remember_token)="
_KNOWN = re.compile(ANONYMOUS_RULE, re.IGNORECASE)
# What an anonymous reader's session may hold: a form's CSRF token, the key that makes a
# support payment idempotent, the Checkout Sessions this browser started (only it may see
# the payer's address and have the claim link sent again), and what Flask-Login leaves
# after logging out.
ANONYMOUS_SESSION_KEYS = frozenset(("csrf_token", "visitor", "checkouts", "_fresh", "_permanent"))
VERIFIED_KEPT = 4096  # verified cookies per process (one per reader seen lately)
_SCALARS = (str, int, float, bool, type(None))


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

    def __init__(self) -> None:
        # cookie text and keys -> (its content, when it was signed): checking the signature
        # and decoding the JSON of the same cookie again gives the same answer.
        self._verified: dict[tuple, tuple[tuple, int]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The session from whichever of the two cookies the request carries (else empty)."""
        for name in (SESSION_COOKIE, ANONYMOUS_COOKIE):
            if name in request.cookies:
                return self._open(app, name, request.cookies[name])
        return self.session_class()

    def _open(self, app: Flask, name: str, value: str) -> SecureCookieSession | None:
        """Flask's open_session for one cookie, remembering a verified cookie's content: a
        reader sends the same cookie with every request. Its age is checked every time."""
        if not app.secret_key:
            return None  # as Flask: the session is unavailable
        if not value:
            return self.session_class()
        key = (name, value, app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get(key)
        if known is not None:
            items, signed_at = known
            age = int(time.time()) - signed_at  # itsdangerous' own rule, in whole seconds
            return self.session_class(items if 0 <= age <= max_age else ())
        try:
            data, signed = self.get_signing_serializer(app).loads(  # type: ignore[union-attr]
                value, max_age=max_age, return_timestamp=True
            )
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(v, _SCALARS) for v in data.values()):
            # Only flat content is kept: a list (flashes) could be changed in place.
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.clear()
            self._verified[key] = (tuple(data.items()), int(signed.timestamp()))
        return self.session_class(data)

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
        if session and not keep.should_set_cookie(app, session):
            # What Flask's save_session does then (a logged-in reader's every page), without
            # first reading the six cookie settings it would not use.
            if session.accessed:
                response.vary.add("Cookie")
            return
        SecureCookieSessionInterface.save_session(keep, app, session, response)


def init_app(app: Flask) -> None:
    """Use the two-cookie sessions (config.py pins both cookie names nginx's rule names)."""
    app.session_interface = ReaderSessions()
