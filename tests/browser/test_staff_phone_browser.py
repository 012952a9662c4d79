"""Staff pages on a 390 px phone: no word, number, badge or id breaks inside, and a table too
wide for the screen scrolls sideways in a labelled, focusable region, never the page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from donations.extensions import db
from donations.models import BalanceTransaction, utcnow
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.staff.factories import (
    change_status,
    make_gift,
    make_supporter,
    store,
    subscribe,
    subscription_event,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# Every word (a run without spaces) of every table cell, header and badge whose rendering spans
# more than one line: a break inside it ("Curren|cy", "pro|ces|sed", "€35,1|2").
BROKEN_WORDS = """() => {
  const broken = [];
  const cells = document.querySelectorAll(".staff-table th, .staff-table td, .badge, main code");
  for (const cell of cells) {
    if (!cell.checkVisibility()) continue;  // a closed <details>: measured once opened
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return [...new Set(broken)];
}"""

# Each table's scrolling wrapper: its role, label and tab stop, and whether it must scroll.
WRAPPERS = """() => [...document.querySelectorAll(".staff-table")].map((t) => {
  const w = t.parentElement;
  return {
    wrapped: w.classList.contains("table-scroll"),
    role: w.getAttribute("role"),
    label: w.getAttribute("aria-label") || "",
    tabindex: w.getAttribute("tabindex"),
    fits: w.scrollWidth <= w.clientWidth,
  };
})"""


@pytest.fixture
def delivery() -> dict[str, Any]:
    """Ordered delivery: this is about layout, not event order."""
    return {}


@pytest.fixture
def busy_newsroom(live_server):
    """Members in three currencies, one past due, gifts, settled money and events: every table."""
    with live_server.app.app_context():
        now = utcnow()
        make_user(email="editor@example.org", is_staff=True)
        member = make_supporter("Ines Member", billing_email="ines.long-address@example.net")
        membership = subscribe(member, now - timedelta(days=3), amount=3512, currency="eur")
        subscribe(make_supporter("Omar"), now - timedelta(days=40), interval="year", amount=12000)
        lapsing = subscribe(make_supporter("Pat"), now - timedelta(days=50), currency="gbp")
        change_status(lapsing, "past_due", now - timedelta(days=1))
        gift = make_gift(member, 123456, "eur", now - timedelta(days=2), refunded=2500)
        db.session.add(
            BalanceTransaction(
                stripe_balance_transaction_id="txn_phone0000000000000001",
                type="charge",
                reporting_category="charge",
                amount=134500,
                fee=4200,
                net=130300,
                currency="usd",
                created=now - timedelta(days=2),
                stripe_payment_intent_id=gift.stripe_payment_intent_id,
            )
        )
        db.session.commit()
        store(
            subscription_event("evt_1PhoneLongEventIdentifier000", user_id=member.id), "processed"
        )
        store(subscription_event("evt_1PhoneFailedEventIdentifier0", user_id=member.id), "failed")
        member_id, membership_id = member.id, membership.id
    assert membership_id
    return live_server, member_id


def test_staff_tables_on_a_phone_break_no_word_and_scroll_in_labelled_regions(
    busy_newsroom, browser
):
    server, member_id = busy_newsroom
    base = server.url
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(base + "/login")
        page.get_by_label("Email address").fill("editor@example.org")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(base + "/account")
        for path in (
            "/staff/",
            "/staff/members",
            f"/staff/members/{member_id}",
            "/staff/events",
            "/staff/articles",
        ):
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.evaluate(BROKEN_WORDS) == [], path
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
            wrappers = page.evaluate(WRAPPERS)
            assert wrappers, path
            for wrapper in wrappers:
                assert wrapper["wrapped"] and wrapper["role"] == "region", (path, wrapper)
                assert wrapper["label"] and wrapper["tabindex"] == "0", (path, wrapper)
        # The dashboard's widest table scrolls, and a keyboard reaches it to scroll it.
        page.goto(base + "/staff/")
        settled = page.get_by_role("region", name="Table: Settled by Stripe, 30 days")
        assert settled.evaluate("w => w.scrollWidth > w.clientWidth")
        settled.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => document.activeElement.scrollLeft > 0", timeout=5_000)
    finally:
        context.close()
