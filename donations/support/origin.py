"""CSRF for the support box, whose page is cached and shared, so it carries no session token.

Public pages (home, articles) are kept and served to every reader alike (issue 11's HTTP
cache), so the support box on them cannot hold a per-session CSRF token. Its POST is checked
the way OWASP recommends when no token exists: the browser's Origin header (or, failing
that, the Referer) must name this site. A form that does carry a token (the /support page)
is checked by the token as before.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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
    if (sent.scheme, sent.netloc) != (site.scheme, site.netloc):
        raise CSRFError("The form has no token and did not come from this site.")
