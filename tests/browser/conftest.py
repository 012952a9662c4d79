"""Real-browser fixtures: the app under a real threaded HTTP server, and Debian's Chromium.

Browser tests skip (with the reason) when /usr/bin/chromium is missing, unless
REQUIRE_BROWSER=1, which CI sets so that they can never be skipped silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import CHAOS_SEEDS, chaos


@pytest.fixture(params=CHAOS_SEEDS, ids=lambda seed: f"chaos-{seed}")
def delivery(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every test here runs under Stripe's real delivery: any order, duplicates, at once."""
    return chaos(request.param)


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without these, Chromium on this closed network keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session, driven by Playwright."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh browser context (no cookies) and page per test."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


class Mailbox(logging.Handler):
    """The mail the app writes to its log (no MAIL_SERVER), caught at the mail logger itself.

    Independent of pytest's log capture, which other tests in the same worker may reconfigure.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.mails: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the text of one logged mail."""
        self.mails.append(record.getMessage())


@pytest.fixture
def mailbox():
    """Catch the mails the app logs during the test."""
    logger = logging.getLogger("donations.mail")
    box, level, disabled = Mailbox(), logger.level, logger.disabled
    logger.setLevel(logging.INFO)
    logger.disabled = False
    logger.addHandler(box)
    yield box
    logger.removeHandler(box)
    logger.setLevel(level)
    logger.disabled = disabled
