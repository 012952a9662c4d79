"""CSRF for the support box, whose page is cached and shared, so it carries no session token.

Public pages (home, articles) are kept and served to every reader alike (issue 11's HTTP
cache), so the support box on them cannot hold a per-session CSRF token. Its POST is checked
the way OWASP recommends when no token exists: the browser's Origin header (or, failing
that, the Referer) must name this site. A form that does carry a token (the /support page)
is checked by the token as before.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from flask import current_app, request
from flask_wtf.csrf import CSRFError

from donations.extensions import csrf

DEFAULT_PORTS = {"http": 80, "https": 443}


class Site(NamedTuple):
    """Where a page came from: scheme and netloc ("host" or "host:port", default port left out)."""

    scheme: str
    netloc: str
    host: str
    port: int


def check_token_or_origin() -> None:
    """Raise CSRFError unless the form's token is valid, or it has none and came from us."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.form.get("csrf_token"):
        csrf.protect()
        return
    site = parse_site(current_app.config["SITE_URL"])
    sent = parse_site(request.headers.get("Origin") or request.headers.get("Referer") or "")
    if site is None or sent is None or not _same_site(sent, site):
        raise CSRFError("The form has no token and did not come from this site.")


def parse_site(value: str) -> Site | None:
    """The scheme, host and port of an Origin or Referer, or None unless it is plainly one.

    Strict, because browsers and urlsplit read some addresses differently: any user
    information ("http://evil.example@news.example" is evil.example's page to some readers
    and news.example to others), a backslash, a space or an empty host makes it no site.
    """
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # a port that is not a number, or a broken IPv6 literal
        return None
    host = parts.hostname
    if parts.scheme not in DEFAULT_PORTS or not host or not parts.netloc.isascii():
        return None
    if any(char in parts.netloc for char in "@\\ \t\r\n%"):
        return None
    port = port or DEFAULT_PORTS[parts.scheme]
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if port == DEFAULT_PORTS[parts.scheme] else f"{shown}:{port}"
    return Site(parts.scheme, netloc, host, port)


# One machine's own names for itself: a developer who opens http://localhost:5000 while
# SITE_URL says http://127.0.0.1:5000 is on the same site (no other site can use them).
LOOPBACK = frozenset(("localhost", "127.0.0.1", "::1"))


def _same_site(sent: Site, site: Site) -> bool:
    if (sent.scheme, sent.netloc) == (site.scheme, site.netloc):
        return True
    loopback = sent.host in LOOPBACK and site.host in LOOPBACK
    return loopback and sent.scheme == site.scheme and sent.port == site.port
