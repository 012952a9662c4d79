"""Pay first, in real Chromium: from an article's box to a paid membership and an account.

Also the money cases: what the reader chose is what Checkout charges, without JavaScript and
with the keyboard alone.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.factories import make_article

pytestmark = pytest.mark.browser

PASSWORD = "paper lanterns over the river"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/account/claim/\S+)")
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}


def _pay(page, card: str = "4242 4242 4242 4242", email: str | None = None) -> None:
    if email:
        page.get_by_label("Email").fill(email)
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Cardholder name").fill("Test Reader")
    page.get_by_role("button", name=re.compile(r"^(Pay|Subscribe)")).click()


def _claim_link(mailbox, to: str, app=None) -> str:
    """The claim link mailed to `to` (sent after the webhook's response): wait up to 30 s."""
    for _ in range(300):
        found = [LINK.search(m) for m in mailbox.mails if f"To: {to}" in m]
        if found and found[-1]:
            return found[-1].group(1)
        time.sleep(0.1)
    raise AssertionError(f"no claim link mailed to {to}: {mailbox.mails}; {_ledger(app)}")


def _ledger(app) -> str:
    """What the app recorded, to say why no mail went out."""
    if app is None:
        return ""
    from sqlalchemy import select

    from donations.extensions import db
    from donations.models import CheckoutAttempt, StripeEvent, User

    with app.app_context():
        events = db.session.execute(
            select(StripeEvent.type, StripeEvent.status, StripeEvent.attempts)
        ).all()
        attempts = db.session.execute(
            select(CheckoutAttempt.status, CheckoutAttempt.user_id, CheckoutAttempt.interval)
        ).all()
        users = db.session.execute(select(User.id, User.email, User.billing_email)).all()
    return f"events={events} attempts={attempts} users={users}"


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
def test_reader_pays_from_the_box_then_claims_the_account_by_email(
    live_server, page, mailbox, viewport
):
    width, height = VIEWPORTS[viewport]
    page.set_viewport_size({"width": width, "height": height})
    base = live_server.url
    with live_server.app.app_context():
        make_article(title="Night trains are back", slug="night-trains")

    page.goto(base + "/articles/night-trains")
    box = page.locator(".support-box")
    expect(box.get_by_label("Monthly")).to_be_checked()
    box.get_by_label("$15 / month").check()
    expect(box.get_by_role("button", name="Join for $15 / month")).to_be_visible()
    box.get_by_role("button", name="Join for $15 / month").click()

    # Straight to Checkout: no account, no password first.
    page.wait_for_url(re.compile(r"/_emulator/checkout/cs_test_"))
    expect(page.locator(".emu-total")).to_contain_text("$15.00")
    _pay(page, email="night.reader@example.org")
    page.wait_for_url(re.compile(r"/support/thanks\?session_id=cs_test_"))
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)
    expect(page.locator(".claim-note")).to_contain_text("night.reader@example.org")
    expect(page.locator(".tracker-count")).to_contain_text("1 of 20,000 members")

    page.goto(_claim_link(mailbox, "night.reader@example.org", live_server.app))
    expect(page.get_by_role("heading", name="Finish your account")).to_be_visible()
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(base + "/account")
    expect(page.locator(".membership-status")).to_contain_text("Member")
    expect(page.locator(".membership-status")).to_contain_text("$15 / month")

    page.goto(base + "/articles/night-trains")
    expect(page.locator(".support-box")).to_contain_text("Thank you for being a member")
    expect(page.get_by_text("Become a member")).to_have_count(0)
    expect(page.get_by_role("link", name="Thank you, member")).to_be_visible()


def _checkout_total(page) -> str:
    page.wait_for_url(re.compile(r"/_emulator/checkout/cs_test_"))
    return page.locator(".emu-total strong").inner_text()


def test_without_javascript_a_typed_amount_beats_the_preset_left_selected(live_server, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/support?interval=once")
        expect(page.get_by_label("$25")).to_be_checked()
        page.get_by_label("Your amount in USD").fill("40")
        page.get_by_role("button", name="Continue to give once").click()
        assert _checkout_total(page) == "$40.00"
    finally:
        context.close()


def test_keyboard_alone_chooses_a_preset_and_pays_exactly_that(live_server, page):
    page.goto(live_server.url + "/support?interval=month")
    for _ in range(60):  # Tab from the top of the page into the amounts
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "amount":
            break
    assert page.evaluate("document.activeElement.value") == "8"  # the checked one
    page.keyboard.press("ArrowDown")  # $8 -> $15
    # Moving on through "another amount" and the fee box never changes the choice.
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    button = page.get_by_role("button", name="Join for $15 / month")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    assert _checkout_total(page) == "$15.00"


def test_reloading_after_a_refused_choice_shows_the_message_without_posting_again(
    live_server, page
):
    page.goto(live_server.url + "/support?interval=once")
    page.get_by_label("Your amount in USD").fill("12.345")
    page.get_by_role("button", name=re.compile("^(Give|Enter)")).click()
    expect(page.locator("#form-error")).to_contain_text("2 decimal")
    # The page's script swaps the address (deferred: it may run just after the message shows).
    page.wait_for_url(re.compile(r"/support\?.*check=1"))
    methods: list[str] = []
    page.on("request", lambda r: methods.append(r.method) if r.resource_type == "document" else 0)
    page.reload()
    expect(page.locator("#form-error")).to_contain_text("2 decimal")
    assert methods == ["GET"]
    expect(page.get_by_label("Your amount in USD")).to_have_value("12.345")
