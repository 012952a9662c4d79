"""Every page fits a 320 px phone (nothing scrolls sideways), and axe-core finds no WCAG 2.1
A/AA violation on the pages a supporter and a staff member use most.

One walk through the site as a reader who pays, claims the account and manages it, then as
staff; each page is measured where the walk meets it. axe-core comes bundled with
axe-playwright-python (no CDN).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_pay_first_browser import PASSWORD, _claim_link, _pay
from tests.factories import DEFAULT_PASSWORD, make_article, make_user

pytestmark = pytest.mark.browser

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


# The element reaching furthest right, to say what to fix.
WIDEST = """() => {
  let worst = null, right = 0;
  const clipped = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll("body *")) {
    if (clipped(el)) continue;
    const r = el.getBoundingClientRect().right;
    if (r > right) { right = r; worst = el; }
  }
  return worst ? `${worst.tagName.toLowerCase()}.${worst.className} (${Math.round(right)} px)` : "";
}"""


@pytest.fixture
def delivery() -> dict[str, Any]:
    """Ordered delivery: this walk is about pages, not about event order."""
    return {}


class Walk:
    """Visits pages at 320 px, noting any that scroll sideways and any axe violations."""

    def __init__(self, page) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.axe = Axe()
        self.too_wide: dict[str, tuple[int, str]] = {}
        self.violations: dict[str, list[str]] = {}
        self.measured: list[str] = []

    def check(self, name: str, *, axe: bool = False) -> None:
        """Measure the current page; run axe-core on it too when asked."""
        self.page.wait_for_load_state("load")
        width = self.page.evaluate("document.documentElement.scrollWidth")
        self.measured.append(name)
        if width > 320:
            self.too_wide[name] = (width, self.page.evaluate(WIDEST))
        if axe:
            results = self.axe.run(self.page, options=WCAG_21_AA)
            found = results.response["violations"]
            if found:
                self.violations[name] = [
                    f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in found
                ]

    def visit(self, path: str, name: str | None = None, *, axe: bool = False) -> None:
        """Go to a page of the site and check it."""
        self.page.goto(self.base + path)
        self.check(name or path, axe=axe)


def test_no_page_scrolls_sideways_at_320px_and_axe_finds_no_violation(
    live_server, browser, mailbox
):
    base, app = live_server.url, live_server.app
    with app.app_context():
        article = make_article(title="Night trains are back", slug="night-trains")
        article_id = article.id
        make_user(email="editor@example.org", is_staff=True)
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.set_default_timeout(15_000)
    page = context.new_page()
    walk = Walk(page)
    walk.base = base
    try:
        # A reader: home, an article, the supporter page, paying, thanks, claim, account.
        walk.visit("/", "home")
        walk.visit("/articles/night-trains", "article", axe=True)
        for interval in ("once", "month", "year"):
            walk.visit(f"/support?interval={interval}", f"support {interval}", axe=True)
        walk.visit("/support/cancelled", "cancelled")
        walk.visit("/support/thanks?session_id=cs_unknown", "thanks (unknown)")
        walk.visit("/embed/progress", "embed")
        walk.visit("/login", "login")
        walk.visit("/signup", "signup")
        walk.visit("/password/forgot", "forgot password")
        walk.visit("/no-such-page", "404")

        page.goto(base + "/articles/night-trains")
        page.locator(".support-box").get_by_role("button", name="Join for $8 / month").click()
        page.wait_for_url(re.compile(r"/_emulator/checkout/"))
        walk.check("emulator checkout", axe=True)
        _pay(page, "4000 0000 0000 0002", email="walker@example.org")
        expect(page.get_by_role("alert")).to_be_visible()
        walk.check("emulator checkout (declined)")
        _pay(page)
        page.wait_for_url(re.compile(r"/support/thanks"))
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)
        walk.check("thanks", axe=True)

        page.goto(_claim_link(mailbox, "walker@example.org"))
        walk.check("claim", axe=True)
        page.get_by_label("Choose a password").fill(PASSWORD)
        page.get_by_role("button", name="Create my account").click()
        page.wait_for_url(base + "/account")
        expect(page.locator(".history td").first).to_be_visible(timeout=20_000)
        walk.check("account", axe=True)
        page.get_by_role("button", name="Manage membership and card").click()
        page.wait_for_url(re.compile(r"/_emulator/portal/"))
        walk.check("emulator portal")
        with app.app_context():
            from stripe_emulator import get_emulator

            (charge,) = get_emulator(app).list_objects("charge")
        walk.visit(f"/_emulator/receipts/{charge['id']}", "emulator receipt")
        page.goto(base + "/account")
        page.get_by_role("button", name="Log out", exact=True).click()

        # Staff.
        page.goto(base + "/login")
        page.get_by_label("Email address").fill("editor@example.org")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(base + "/account")
        walk.visit("/staff/", "staff dashboard", axe=True)
        walk.visit("/staff/?range=365", "staff dashboard 365")
        walk.visit("/staff/members", "staff members")
        walk.visit("/staff/members?q=walker", "staff members search")
        page.goto(base + "/staff/members")
        page.get_by_role("link", name=re.compile("walker@example.org")).first.click()
        page.wait_for_url(re.compile(r"/staff/members/\d+$"))
        walk.check("staff member")
        walk.visit("/staff/events", "staff events")
        page.locator("table a[href*='/staff/events/evt_']").first.click()
        page.wait_for_url(re.compile(r"/staff/events/evt_"))
        walk.check("staff event")
        walk.visit("/staff/articles", "staff articles")
        walk.visit("/staff/articles/new", "staff new article")
        walk.visit(f"/staff/articles/{article_id}", "staff edit article")
    finally:
        context.close()
    assert len(walk.measured) == 29, walk.measured
    assert walk.too_wide == {}, f"pages wider than 320 px: {walk.too_wide}"
    assert walk.violations == {}, walk.violations
