"""Staff in real Chromium: log in, read the numbers and the chart, find a member, replay."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from donations.extensions import db
from donations.models import StripeEvent, utcnow
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.staff.factories import make_supporter, subscribe, subscription_event

pytestmark = pytest.mark.browser


@pytest.fixture
def newsroom(live_server):
    """Two members, a staff account and a failed webhook event waiting for a replay."""
    with live_server.app.app_context():
        now = utcnow()
        staff = make_user(email="editor@example.org", is_staff=True)
        subscribe(
            make_supporter("Ines Member", billing_email="ines@example.net"), now - timedelta(days=3)
        )
        subscribe(
            make_supporter("Omar Member"), now - timedelta(days=40), interval="year", amount=12000
        )
        event = subscription_event("evt_browser_failed", user_id=staff.id)
        db.session.add(
            StripeEvent(
                stripe_event_id=event["id"],
                type=event["type"],
                created=now,
                livemode=False,
                payload=json.dumps(event),
                status="failed",
                error="OperationalError: database was restarting",
                attempts=1,
            )
        )
        db.session.commit()
    return live_server


def test_staff_read_the_dashboard_find_a_member_and_replay_a_failed_event(newsroom, page):
    base = newsroom.url
    page.goto(base + "/staff/")
    page.wait_for_url(base + "/login?next=%2Fstaff%2F")
    page.get_by_label("Email address").fill("editor@example.org")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/staff/")

    assert page.locator('[data-stat="members"]').inner_text() == "2"
    assert page.locator('[data-stat="joined-7-days"]').inner_text() == "1"
    assert page.locator('[data-stat="mrr-usd"]').inner_text() == "$18"  # 800 + 12000 / 12
    chart = page.get_by_role("img", name="Members over the last 90 days against the goal of 20,000")
    assert chart.is_visible()
    assert chart.bounding_box()["width"] > 300
    page.get_by_role("link", name="30 days").click()
    page.wait_for_url(base + "/staff/?range=30")
    page.get_by_text("Chart data as a table").click()
    assert page.locator(".chart-data tbody tr").count() == 30

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Supporters").click()
    page.get_by_label("Search").fill("INES@example")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/staff/members?*q=INES*")  # count only once the results page is in
    rows = page.locator("#supporters tbody tr")
    assert rows.count() == 1 and "Ines Member" in rows.inner_text()
    rows.get_by_role("link", name="Ines Member").click()
    expect(page.get_by_role("heading", name="Ines Member")).to_be_visible()  # after loading

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Webhook events").click()
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("button", name="Replay evt_browser_failed").click()
    assert "evt_browser_failed replayed: processed." in page.locator(".flashes").inner_text()
    assert page.locator('[data-stat="event-status"]').inner_text() == "processed"


def test_the_editor_makes_the_slug_from_the_title_and_previews_in_the_article_type(newsroom, page):
    base = newsroom.url
    page.goto(base + "/login?next=/staff/articles/new")
    page.get_by_label("Email address").fill("editor@example.org")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/staff/articles/new")
    page.get_by_label("Title").fill("Élan: the Ostrelia río talks, day 2")
    assert page.get_by_label("Slug").input_value() == "elan-the-ostrelia-rio-talks-day-2"
    page.get_by_label("Slug").fill("talks-day-2")
    page.get_by_label("Title").fill("The Ostrelia talks, day 2")
    assert page.get_by_label("Slug").input_value() == "talks-day-2"  # chosen by hand: kept
    assert (
        page.get_by_label("Publication date and time, UTC (optional)").get_attribute("type")
        == "datetime-local"
    )
    page.get_by_label("Body").fill("Talks **resumed** at dawn.")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".staff-preview .story-body")
    assert "Talks resumed at dawn." in preview.inner_text()
    assert "Georgia" in preview.evaluate("e => getComputedStyle(e).fontFamily")
