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


def test_a_reader_logs_in_by_an_emailed_link_on_a_phone_and_axe_finds_no_violation(
    live_server, page, mailbox
):
    from axe_playwright_python.sync_playwright import Axe

    from tests.browser.test_layout_browser import WCAG_21_AA
    from tests.factories import make_user

    base, axe = live_server.url, Axe()
    with live_server.app.app_context():
        make_user(email=EMAIL)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/login")
    assert axe.run(page, options=WCAG_21_AA).response["violations"] == []
    page.get_by_label("Address for a sign-in link").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.wait_for_url(base + "/login/link/sent")
    assert f"If an account exists for {EMAIL}" in page.locator("main").inner_text()
    [link] = _mailed_links(live_server.app, mailbox, page)
    page.goto(link)  # opening it logs nobody in: a button does
    assert axe.run(page, options=WCAG_21_AA).response["violations"] == []
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/account")
    assert EMAIL in page.locator("main").inner_text()


def _mailed_links(app, mailbox, page) -> list[str]:
    """The sign-in links mailed so far: the request tries its mail once the response has gone,
    and the mail worker sends what that try left (a busy database), as in production."""
    from donations.core.mail_sender import send_due

    for attempt in range(60):
        found = [line for m in mailbox.mails for line in m.splitlines() if "/login/link/" in line]
        if found:
            return found
        if attempt == 20:
            with app.app_context():
                send_due()  # the worker's step
        page.wait_for_timeout(100)
    return []
