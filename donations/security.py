"""Security headers on every response, and a readable page when a CSRF check fails."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest

from donations.core.errors import render_error

CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self' https://js.stripe.com",
    "style-src": "'self'",
    "img-src": "'self' data: https:",
    "connect-src": "'self' https://api.stripe.com",
    "frame-src": "https://js.stripe.com https://hooks.stripe.com",
    # Chrome applies form-action to the redirect after POST /support/checkout.
    "form-action": "'self' https://checkout.stripe.com https://billing.stripe.com",
    "base-uri": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"
EMBED_PREFIX = "/embed/"


def content_security_policy(embeddable: bool = False, site_url: str = "") -> str:
    """The CSP header value; embeddable pages may be framed by any site."""
    directives = dict(CSP_DIRECTIVES)
    if site_url:
        # Checkout return URLs and the emulator's pages are built from SITE_URL; a reader who
        # reached us by another name (localhost vs 127.0.0.1) must still be let through.
        directives["form-action"] += f" {site_url}"
    if embeddable:
        directives["frame-ancestors"] = "*"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers_hook(app: Flask) -> Callable[[Response], Response]:
    """The after-request hook adding the security headers (a view's own are kept)."""
    https = app.config["SITE_URL"].startswith("https://")
    site = app.config["SITE_URL"]
    page_csp = content_security_policy(site_url=site)
    embed_csp = content_security_policy(embeddable=True, site_url=site)

    common = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        *([("Strict-Transport-Security", HSTS)] if https else []),
    ]
    # Built once: these headers are on every response, so the per-request work is one pass.
    page_headers = [("Content-Security-Policy", page_csp), ("X-Frame-Options", "DENY"), *common]
    embed_headers = [("Content-Security-Policy", embed_csp), *common]

    def security_headers(response: Response) -> Response:
        embeddable = request.path.startswith(EMBED_PREFIX)
        present = {name.lower() for name, _ in response.headers}
        for name, value in embed_headers if embeddable else page_headers:
            if name.lower() not in present:  # a view may set its own (e.g. a stricter CSP)
                response.headers.add(name, value)
        return response

    return security_headers


def register_csrf_error_page(app: Flask) -> None:
    """A readable page when a CSRF check fails."""

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):
        # Usually an old tab or an expired session, so say how to recover.
        friendly = BadRequest(
            "This form has expired or didn't come from this site, so we didn't send it. "
            "Go back, reload the page and try again."
        )
        return render_error(friendly)
