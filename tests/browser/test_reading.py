"""A reader in real Chromium: home, then an article, with its support box."""

from __future__ import annotations

import pytest

from tests.factories import make_article

pytestmark = pytest.mark.browser


def test_reader_opens_an_article_from_home_and_sees_the_support_box(live_server, page):
    with live_server.app.app_context():
        make_article(title="Flood walls that were never built", slug="flood-walls")
        make_article(title="A quieter story", slug="quiet")
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Flood walls that were never built").click()
    page.wait_for_url(live_server.url + "/articles/flood-walls")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Flood walls that were never built"
    box = page.locator(".support-box")
    box.scroll_into_view_if_needed()
    assert box.is_visible()
    assert "members" in box.inner_text()
    assert page.get_by_role("progressbar").get_attribute("aria-valuemax") == str(
        live_server.app.config["MEMBERSHIP_GOAL"]
    )
    assert page.get_by_role("link", name="Become a member").first.is_visible()
