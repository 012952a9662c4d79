"""Template filters and the few globals every page needs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, g, session
from flask.globals import _cv_request
from flask_wtf.csrf import generate_csrf

from donations.money import format_money, major


def _iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


def human_date(value: date | None, rest: str = "%B %Y") -> str:
    """The day without a leading zero, then `rest` (strftime): 7 December 2026."""
    # Not strftime's dash flag (no padding): glibc knows it, Windows and others don't.
    return f"{value.day} {value.strftime(rest)}" if value else ""


def _period(interval: str, count: int = 1) -> str:
    """A billing period in words: month, 3 months, year, 2 years."""
    return interval if count == 1 else f"{count} {interval}s"


URLS_KEPT = 4096  # built URLs per app: the site's links, and one per article slug seen


def memo_url_for(app: Flask) -> Callable[..., str]:
    """The templates' url_for: a URL built once per app, endpoint, arguments and request
    address (host, scheme, script root, blueprint), then reused: a page has ~14 links and
    building each through werkzeug's map costs ~10 µs. The same URL Flask builds: the map,
    the url_defaults (static.py's hashed names) and the adapter never change once serving."""
    built: dict[tuple, str] = {}
    build = app.url_for

    def url_for(endpoint: str, /, **values: Any) -> str:
        ctx = _cv_request.get(None)
        if ctx is None:  # a mail rendered outside a request: external, as Flask builds it
            return build(endpoint, **values)
        adapter = ctx.url_adapter
        try:
            key = (
                endpoint,
                *values.items(),
                # Only a relative endpoint (".page") depends on the request's blueprint.
                ctx.request.blueprint if endpoint[:1] == "." else None,
                adapter.server_name,
                adapter.script_name,
                adapter.url_scheme,
                adapter.subdomain,
            )
            url = built.get(key)
        except TypeError:  # an unhashable argument: build it every time
            return build(endpoint, **values)
        if url is None:
            url = build(endpoint, **values)
            if len(built) >= URLS_KEPT:
                built.clear()
            built[key] = url
        return url

    return url_for


CSRF_REUSE_SECONDS = 60  # a form's token is at most this much older than a fresh one
TOKENS_KEPT = 4096


def reused_csrf_token() -> Callable[[], str]:
    """The templates' csrf_token(): Flask-WTF's signed token, signed again only when the one
    signed for the same session token is over a minute old (signing costs ~20 µs a page). A
    reused token is accepted exactly as a fresh one; it expires at most a minute sooner."""
    signed: dict[tuple, tuple[str, float]] = {}

    def csrf_token() -> str:
        settings = current_app.config
        field = settings.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        raw = session.get(field)
        if field in g or not isinstance(raw, str):
            return generate_csrf()  # this request's token, or a new session token
        secret = settings.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        limit = settings.get("WTF_CSRF_TIME_LIMIT", 3600)
        reuse = CSRF_REUSE_SECONDS if limit is None else min(CSRF_REUSE_SECONDS, limit / 60)
        key = (raw, secret)
        now = time.monotonic()
        known = signed.get(key)
        if known is not None and now - known[1] < reuse:
            token = known[0]
            setattr(g, field, token)  # as generate_csrf: one token per request
            return token
        token = generate_csrf()
        if len(signed) >= TOKENS_KEPT:
            signed.clear()
        signed[key] = (token, now)
        return token

    return csrf_token


def register(app: Flask) -> None:
    """Register filters and the site-wide template globals."""
    app.add_template_filter(format_money, "money")
    app.add_template_filter(major, "major")
    app.add_template_filter(_iso, "iso")
    app.add_template_filter(human_date, "human_date")
    app.add_template_filter(_period, "period")
    app.add_template_filter(lambda n: f"{n:,}", "thousands")
    app.add_template_global(memo_url_for(app), "url_for")
    # Flask-WTF gives csrf_token() as a global and from a context processor: ours replaces
    # both (a later context processor wins).
    csrf_token = reused_csrf_token()
    app.add_template_global(csrf_token, "csrf_token")
    app.context_processor(lambda: {"csrf_token": csrf_token})
    settings = app.config
    app.add_template_global(settings["SITE_NAME"], "site_name")
    app.add_template_global(settings["SITE_URL"], "site_url")
    # The banner shows whenever no real money can move: the emulator, or a Stripe test key.
    app.add_template_global(settings["STRIPE_TEST_MODE"], "stripe_test_mode")
    app.add_template_global(settings["STRIPE_EMULATOR"], "stripe_emulator")
