"""Dates read the same on every platform: no glibc-only strftime codes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from donations.core.templating import human_date

ROOT = Path(__file__).resolve().parent.parent


def test_a_date_shows_its_day_without_a_leading_zero(app):
    render = app.jinja_env.filters["human_date"]
    assert render(datetime(2026, 3, 7, 9, 5, tzinfo=UTC)) == "7 March 2026"
    assert render(date(2026, 12, 25), "%b") == "25 Dec"
    assert render(datetime(2026, 3, 7, 9, 5, tzinfo=UTC), "%b %Y %H:%M") == "7 Mar 2026 09:05"
    assert render(None) == "" == human_date(None)


def test_no_code_or_template_uses_a_glibc_only_strftime_code():
    glibc_only = re.compile(r"%-[a-zA-Z]")
    found = [
        str(path)
        for folder in ("donations", "templates")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".html") and glibc_only.search(path.read_text())
    ]
    assert found == []
