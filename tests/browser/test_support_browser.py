"""Readers in real Chromium pay on the emulator's Checkout page; webhooks arrive over HTTP.

The app runs under a real threaded server; the emulator delivers its signed events to
/stripe/webhook in the background, exactly as Stripe would, so the pages must wait for them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "paper lanterns over the river"


def _sign_up(page, email: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/signup/sent"))


def _pay(page, card: str) -> None:
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Cardholder name").fill("Test Reader")
    page.get_by_role("button", name=re.compile(r"^(Pay|Subscribe)")).click()


def _reload_until_visible(page, locator) -> None:
    """Reload every 200 ms (for up to 20 s) until the locator shows: the webhook has landed.

    The thanks page also reloads itself once its poll sees the payment confirmed; a reload of
    ours that meets that one is aborted by the browser, and the next round looks again.
    """
    for _ in range(100):
        if locator.is_visible():
            return
        page.wait_for_timeout(200)
        try:
            page.reload()
        except PlaywrightError:
            continue
    expect(locator).to_be_visible()


def test_logged_in_reader_pays_monthly_from_support_and_is_thanked(live_server, page):
    base = live_server.url
    page.goto(base + "/signup")
    _sign_up(page, "monthly.reader@example.org")
    page.goto(base + "/support")
    page.get_by_role("button", name="Monthly").click()
    expect(page.get_by_role("button", name="Join for $8 / month")).to_be_visible()
    page.get_by_label("$15 / month").check()
    page.get_by_label("Add").check()  # cover the card fee
    # (1500 + 30) / 0.971 = 1575.7 → $15.76 each month
    expect(page.get_by_role("button", name="Join for $15.76 / month")).to_be_visible()
    page.get_by_role("button", name="Join for $15.76 / month").click()

    page.wait_for_url(re.compile(r"/_emulator/checkout/cs_test_"))
    expect(page.get_by_text("$15.76")).not_to_have_count(0)
    _pay(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/support/thanks\?session_id=cs_test_"))
    # "Confirming…" until the webhook lands; the page looks again by itself.
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Your membership of $15.76 / month is confirmed")).to_be_visible()


def test_the_page_asks_the_currencys_own_card_fee_as_the_reader_types(live_server, page):
    page.goto(live_server.url + "/support?interval=once&currency=eur")
    page.get_by_label("Your amount in EUR").fill("10")
    page.get_by_label("Add").check()
    # An EEA card: 1.5 % + €0.25, so (1000 + 25) / 0.985 = 1040.6 → €10.41, not 2.9 %.
    expect(page.get_by_role("button", name="Give €10.41 once")).to_be_visible()
    page.get_by_label("Your amount in EUR").fill("20")
    expect(page.get_by_role("button", name="Give €20.56 once")).to_be_visible()


def test_a_decimal_comma_shows_no_price_a_hundred_times_too_high(live_server, page):
    page.goto(live_server.url + "/support?interval=once&currency=eur")
    amount = page.get_by_label("Your amount in EUR")
    amount.fill("12,50")  # the server refuses it (use a point), so the label names no price
    expect(page.get_by_role("button", name="Enter an amount to give")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("1,250"))).to_have_count(0)
    amount.fill("1,250")  # grouped thousands stay what they are
    expect(page.get_by_role("button", name="Give €1,250 once")).to_be_visible()


def test_declined_card_shows_the_decline_and_a_retry_succeeds(live_server, page):
    base = live_server.url
    page.goto(base + "/support?interval=once")
    page.get_by_role("button", name="Give $25 once").click()
    page.wait_for_url(re.compile(r"/_emulator/checkout/cs_test_"))
    page.get_by_label("Email").fill("giver@example.org")
    _pay(page, "4000 0000 0000 0002")
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    assert page.get_by_label("Email").input_value() == "giver@example.org"
    _pay(page, "4242 4242 4242 4242")
    page.wait_for_url(re.compile(r"/support/thanks"))
    _reload_until_visible(page, page.get_by_text("Your gift of $25 is confirmed"))


def test_reader_who_cancels_lands_on_the_cancelled_page(live_server, page):
    base = live_server.url
    page.goto(base + "/support?interval=once&currency=eur")
    page.get_by_role("button", name="Give €25 once").click()
    page.wait_for_url(re.compile(r"/_emulator/checkout/cs_test_"))
    page.get_by_role("link", name=re.compile("Cancel and return")).click()
    page.wait_for_url(re.compile(re.escape(base + "/support/cancelled?")))
    expect(page.get_by_role("heading", name="No payment was made")).to_be_visible()
    # The choice they made is one click away.
    page.get_by_role("link", name="Try again: Give €25 once").click()
    expect(page.get_by_role("button", name="Give €25 once")).to_be_visible()


def _members(page, base: str) -> int:
    # An API request, not a navigation: the browser cache must not answer for the server.
    return page.request.get(base + "/api/progress").json()["members"]


def _wait_for_members(page, base: str, expected: int) -> None:
    for _ in range(100):
        if _members(page, base) == expected:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"members never became {expected}: {_members(page, base)}")


def test_new_member_is_counted_everywhere_until_their_cancellation_takes_effect(live_server, page):
    from stripe_emulator import get_emulator
    from tests.factories import make_article

    base, app = live_server.url, live_server.app
    with app.app_context():
        make_article(title="Night trains are back", slug="night-trains")
    assert _members(page, base) == 0

    page.goto(base + "/articles/night-trains")
    expect(page.locator(".support-box")).to_contain_text("0 of 20,000 members")
    page.goto(base + "/signup")
    _sign_up(page, "counted.reader@example.org")
    page.goto(base + "/articles/night-trains")
    page.locator(".support-box").get_by_role("button", name="Join for $8 / month").click()
    _pay(page, "4242424242424242")
    page.wait_for_url(re.compile(r"/support/thanks"))
    _reload_until_visible(page, page.get_by_role("heading", name="Thank you!"))

    assert _members(page, base) == 1
    page.goto(base + "/articles/night-trains")
    expect(page.locator(".support-box")).to_contain_text("1 of 20,000 members")
    page.goto(base + "/embed/progress")
    expect(page.locator(".widget-count")).to_have_text("1 of 20,000 members")

    # Cancel at period end in the (emulated) Billing Portal: still a member until it ends.
    page.goto(base + "/account")
    page.get_by_role("button", name="Manage membership and card").click()
    page.wait_for_url(re.compile(r"/_emulator/portal/"))
    page.get_by_role("button", name="Cancel at period end").click()
    page.get_by_role("button", name="Cancel subscription").click()  # Stripe asks first
    expect(page.get_by_text("cancels at period end", exact=False)).to_be_visible()
    page.goto(base + "/account")
    _reload_until_visible(page, page.get_by_text("Cancels at the end of the period"))
    assert _members(page, base) == 1

    emulator = get_emulator(app)
    (subscription,) = emulator.list_objects("subscription")
    emulator.advance_past_period_end(subscription["id"])
    _wait_for_members(page, base, 0)
    page.goto(base + "/articles/night-trains")
    expect(page.locator(".support-box")).to_contain_text("0 of 20,000 members")
    page.goto(base + "/account")
    expect(page.locator(".membership-status")).to_contain_text("Ended")
