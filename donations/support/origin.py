"""CSRF for the support box, whose page is cached and shared, so it carries no session token.

Public pages (home, articles) are kept and served to every reader alike (issue 11's HTTP
cache), so the support box on them cannot hold a per-session CSRF token. Its POST is checked
the way OWASP recommends when no token exists: the browser's Origin header (or, failing
that, the Referer) must name this site. A form that does carry a token (the /support page)
is checked by the token as before.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from flask import current_app, request
from flask_wtf.csrf import CSRFError

from donations.extensions import csrf


def check_token_or_origin() -> None:
    """Raise CSRFError unless the form's token is valid, or it has none and came from us."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.form.get("csrf_token"):
        csrf.protect()
        return
    site = urlsplit(current_app.config["SITE_URL"])
    sent = urlsplit(request.headers.get("Origin") or request.headers.get("Referer") or "")
    if not _same_site(sent, site):
        raise CSRFError("The form has no token and did not come from this site.")


# One machine's own names for itself: a developer who opens http://localhost:5000 while
# SITE_URL says http://127.0.0.1:5000 is on the same site (no other site can use them).
LOOPBACK = frozenset(("localhost", "127.0.0.1", "::1"))


def _same_site(sent: SplitResult, site: SplitResult) -> bool:
    if (sent.scheme, sent.netloc) == (site.scheme, site.netloc):
        return True
    try:
        ports = (sent.port, site.port)
    except ValueError:  # a port that is not a number
        return False
    loopback = sent.hostname in LOOPBACK and site.hostname in LOOPBACK
    return loopback and sent.scheme == site.scheme and ports[0] == ports[1]
