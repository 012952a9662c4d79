"""Error pages in real Chromium: the heading has the focus, so a screen reader starts there."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_an_error_page_puts_the_focus_on_its_heading(live_server, page):
    response = page.goto(live_server.url + "/articles/no-such-story")
    assert response.status == 404
    assert page.title().startswith("We can't find that page (404)")
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    assert focused == "error-heading"
    # The rest of the site is still there to go on from.
    assert page.get_by_role("navigation", name="Main").is_visible()
