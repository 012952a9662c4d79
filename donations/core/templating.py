"""Template filters and the few globals every page needs."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

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


def register(app: Flask) -> None:
    """Register filters and the site-wide template globals."""
    app.add_template_filter(format_money, "money")
    app.add_template_filter(major, "major")
    app.add_template_filter(_iso, "iso")
    app.add_template_filter(human_date, "human_date")
    app.add_template_filter(_period, "period")
    app.add_template_filter(lambda n: f"{n:,}", "thousands")
    settings = app.config
    app.add_template_global(settings["SITE_NAME"], "site_name")
    app.add_template_global(settings["SITE_URL"], "site_url")
    # The banner shows whenever no real money can move: the emulator, or a Stripe test key.
    app.add_template_global(settings["STRIPE_TEST_MODE"], "stripe_test_mode")
    app.add_template_global(settings["STRIPE_EMULATOR"], "stripe_emulator")
