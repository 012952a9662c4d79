"""Template filters and the few globals every page needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask.globals import _cv_request

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
                ctx.request.blueprint,
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


def register(app: Flask) -> None:
    """Register filters and the site-wide template globals."""
    app.add_template_filter(format_money, "money")
    app.add_template_filter(major, "major")
    app.add_template_filter(_iso, "iso")
    app.add_template_filter(human_date, "human_date")
    app.add_template_filter(_period, "period")
    app.add_template_filter(lambda n: f"{n:,}", "thousands")
    app.add_template_global(memo_url_for(app), "url_for")
    settings = app.config
    app.add_template_global(settings["SITE_NAME"], "site_name")
    app.add_template_global(settings["SITE_URL"], "site_url")
    # The banner shows whenever no real money can move: the emulator, or a Stripe test key.
    app.add_template_global(settings["STRIPE_TEST_MODE"], "stripe_test_mode")
    app.add_template_global(settings["STRIPE_EMULATOR"], "stripe_emulator")
