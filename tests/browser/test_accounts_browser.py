"""A reader in real Chromium: sign up, log out, log in, the account page, refused staff area."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

EMAIL = "browser.reader@example.org"
PASSWORD = "paper lanterns over the river"


def test_reader_signs_up_logs_out_logs_in_and_is_kept_out_of_staff(live_server, page):
    base = live_server.url
    page.goto(base + "/")
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url(base + "/signup")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    # The server explains, keeps the email and ties the message to the field.
    assert "Use at least 10 characters" in page.locator("#password-error").inner_text()
    assert page.get_by_label("Email address").input_value() == EMAIL
    assert page.get_by_label("Password").input_value() == ""
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Name (optional)").fill("Bea Browser")
    page.get_by_role("button", name="Create account").click()
    # The page a registered address would get too; the new account is logged in already.
    page.wait_for_url(base + "/signup/sent")
    assert f"we've sent a message to {EMAIL}" in page.locator("main").inner_text()
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(base + "/account")
    assert "Bea Browser" in page.locator("main").inner_text()

    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("link", name="Log in").is_visible()
    page.goto(base + "/account")
    page.wait_for_url(base + "/login?next=%2Faccount")

    page.get_by_label("Email address").fill(EMAIL.upper())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/account")
    assert EMAIL in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Staff").count() == 0

    response = page.goto(base + "/staff/")
    assert response.status == 403
    assert "You don't have access to this page" in page.locator("main").inner_text()
