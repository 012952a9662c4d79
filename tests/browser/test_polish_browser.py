"""Small things a reader, a member and an editor meet in Chromium: a typed amount survives a
change of frequency, errors take the focus, the thanks page stops waiting, the tracker says its
figures, the embed fits a small iframe, and staff pages scroll and preview where one looks."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from donations.extensions import db
from donations.models import CheckoutAttempt, StripeEvent, utcnow
from tests.browser.test_pay_first_browser import _pay
from tests.factories import DEFAULT_PASSWORD, make_article, make_user
from tests.staff.factories import make_gift, subscription_event

pytestmark = pytest.mark.browser

ACTIVE = "() => [document.activeElement.id, document.activeElement.className]"


@pytest.fixture
def delivery() -> dict[str, Any]:
    """Ordered delivery: these tests are about pages, not about event order."""
    return {}


def test_a_typed_amount_survives_a_change_of_frequency_and_enter_still_pays(live_server, page):
    page.goto(live_server.url + "/support?interval=once")
    page.get_by_label("Your amount in USD").fill("40")
    page.get_by_role("button", name="Monthly").click()
    page.wait_for_url(re.compile(r"interval=month"))
    expect(page.get_by_label("Your amount in USD")).to_have_value("40")
    expect(page.get_by_role("button", name="Join for $40 / month")).to_be_visible()
    expect(page.get_by_role("button", name="Monthly")).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Your amount in USD").press("Enter")  # the default button pays
    page.wait_for_url(re.compile(r"/_emulator/checkout/cs_test_"))


def test_form_errors_and_a_declined_card_take_the_focus(live_server, page):
    base = live_server.url
    page.goto(base + "/signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".form-problems")).to_be_focused()
    page.goto(base + "/support?interval=once")
    page.get_by_label("Your amount in USD").fill("abc")
    page.locator(".support-form button.primary").click()
    expect(page.locator("#form-error")).to_be_focused()
    page.get_by_label("Your amount in USD").fill("25")
    page.get_by_role("button", name="Give $25 once").click()
    page.wait_for_url(re.compile(r"/_emulator/checkout/"))
    _pay(page, "4000 0000 0000 0002", email="declined@example.org")
    expect(page.get_by_role("alert")).to_be_focused()


def test_the_thanks_page_stops_asking_after_a_while_and_says_what_to_do(live_server, page):
    with live_server.app.app_context():
        db.session.add(
            CheckoutAttempt(
                stripe_session_id="cs_lost", interval="month", amount=800, currency="usd"
            )
        )
        db.session.commit()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/thanks/status" in r.url else None)
    page.clock.install()
    page.goto(live_server.url + "/support/thanks?session_id=cs_lost")
    expect(page.get_by_role("heading", name="Confirming your payment…")).to_be_visible()
    for _ in range(60):  # ten minutes on the page's clock, each answer awaited
        page.clock.run_for(10_000)
        page.wait_for_timeout(40)
    expect(page.get_by_text("We haven't heard from Stripe yet")).to_be_visible()
    expect(page.get_by_text("this page updates by itself")).to_be_hidden()
    expect(page.get_by_role("link", name="Write to us")).to_have_attribute(
        "href", re.compile(r"^mailto:support@127\.0\.0\.1")
    )
    settled = len(asked)
    page.clock.run_for(600_000)
    page.wait_for_timeout(200)
    assert 5 < settled == len(asked)  # it asked often at first, then not at all


def _progressbar_names(page) -> list[str]:
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    return [
        n.get("name", {}).get("value", "")
        for n in tree
        if n.get("role", {}).get("value") == "progressbar" and not n.get("ignored")
    ]


def test_the_progress_bar_says_its_figures_to_a_screen_reader(live_server, page):
    with live_server.app.app_context():
        make_article(slug="night-trains")
    for path in ("/articles/night-trains", "/embed/progress"):
        page.goto(live_server.url + path)
        names = _progressbar_names(page)
        assert names and all(re.search(r"\d of 20,000$", n) for n in names), (path, names)


@pytest.mark.parametrize(("width", "height"), [(300, 150), (200, 150)])
def test_the_embed_shows_its_button_whole_in_a_small_iframe(live_server, page, width, height):
    # A host page (served by the test, on a loopback address as Chromium wants for a frame
    # of one) with the README's snippet at this size.
    host = (
        f'<!doctype html><iframe title="Members" src="{live_server.url}/embed/progress" '
        f'width="{width}" height="{height}"></iframe>'
    )
    page.route(live_server.url + "/_host", lambda r: r.fulfill(body=host, content_type="text/html"))
    page.goto(live_server.url + "/_host")
    frame = page.frame_locator("iframe")
    button = frame.get_by_role("link", name=re.compile("^Support"))
    expect(button).to_be_visible()
    inside = button.evaluate(
        "b => { const r = b.getBoundingClientRect();"
        " return r.bottom <= innerHeight && r.right <= innerWidth && r.left >= 0; }"
    )
    assert inside, f"the button is cut off at {width} x {height}"


def _staff(live_server, page) -> None:
    with live_server.app.app_context():
        staff = make_user(email="editor@example.org", is_staff=True)
        event = subscription_event("evt_long_payload", user_id=staff.id)
        event["data"]["object"]["metadata"] = {f"k{i}": "x" * 200 for i in range(80)}
        db.session.add(
            StripeEvent(
                stripe_event_id=event["id"],
                type=event["type"],
                created=utcnow(),
                livemode=False,
                payload=json.dumps(event),
                status="processed",
                attempts=1,
            )
        )
        db.session.commit()
    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill("editor@example.org")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/account|/$"))


def test_a_long_event_payload_scrolls_by_keyboard_and_axe_agrees(live_server, page):
    from axe_playwright_python.sync_playwright import Axe

    _staff(live_server, page)
    page.goto(live_server.url + "/staff/events/evt_long_payload")
    payload = page.get_by_role("region", name="Event payload")
    payload.focus()
    expect(payload).to_be_focused()
    page.keyboard.press("PageDown")
    assert payload.evaluate("e => e.scrollTop") > 0
    found = Axe().run(page, options={"runOnly": ["scrollable-region-focusable"]})
    assert found.response["violations"] == []


def test_the_editor_preview_shows_where_the_editor_looks(live_server, page):
    _staff(live_server, page)
    page.goto(live_server.url + "/staff/articles/new")
    page.get_by_label("Title").fill("Talks resume")
    page.get_by_label("Body (Markdown)").fill("Talks resumed at dawn.")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".staff-preview")
    expect(preview).to_be_focused()
    top = preview.evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"] - 100  # in view, not 2,000 px below


# Every word of the account's payments table whose rendering spans two lines ("€35,0|69").
BROKEN_CELLS = """() => [...document.querySelectorAll(".history th, .history td")].flatMap((c) => {
  const broken = [];
  const walker = document.createTreeWalker(c, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      if (new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1) {
        broken.push(m[0]);
      }
    }
  }
  return broken;
})"""


def test_the_account_page_on_a_phone_splits_no_amount_and_styles_its_buttons(live_server, browser):
    with live_server.app.app_context():
        member = make_user(email="reader@example.org")
        paid = utcnow() - timedelta(days=2)
        make_gift(member, 3_506_900, "eur", paid, refunded=1_000_050, kind="membership_first")
        make_gift(member, 12_345_678, "usd", paid)
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/login")
        page.get_by_label("Email address").fill("reader@example.org")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(live_server.url + "/account")
        expect(page.get_by_role("region", name="Table: Your payments")).to_be_visible()
        assert page.evaluate(BROKEN_CELLS) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        # "Log out everywhere else" looks like the site's other buttons, not a native one.
        styled = page.get_by_role("button", name="Log out everywhere else").evaluate(
            "b => { const s = getComputedStyle(b);"
            " return [s.fontWeight, s.borderRadius, s.backgroundColor]; }"
        )
        assert styled == ["700", "4px", "rgb(255, 255, 255)"]
    finally:
        context.close()
