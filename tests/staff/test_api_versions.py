"""Each event's API version in the ledger, on the event page, and a dashboard warning when
events arrive in another version than the one we pin (an old endpoint still in use)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from donations.extensions import db
from donations.models import StripeEvent, utcnow
from tests.payments.stripe_events import World, post_event

OLD = "2024-06-20"


def _store(event_id: str, version: str | None, days_ago: float = 0) -> None:
    at = utcnow() - timedelta(days=days_ago)
    db.session.add(
        StripeEvent(
            stripe_event_id=event_id,
            type="invoice.paid",
            created=at,
            livemode=False,
            api_version=version,
            payload="{}",
            status="processed",
            received_at=at,
        )
    )
    db.session.commit()


def _warnings(staff_client) -> list[str]:
    html = staff_client.get("/staff/").get_data(as_text=True)
    return [
        line.split(">", 1)[1].rsplit("</p>", 1)[0]
        for line in html.splitlines()
        if 'data-stat="api-version-drift"' in line
    ]


def test_the_webhook_records_the_version_each_event_was_shaped_in(app, client, db):
    world = World()
    event = world.event("plan.created", {"id": "plan_1", "object": "plan"})
    event["api_version"] = OLD
    post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert db.session.get(StripeEvent, 1).api_version == OLD


def test_the_event_page_shows_its_version_and_ours(app, staff_client):
    _store("evt_old", OLD)
    _store("evt_ours", app.config["STRIPE_API_VERSION"])
    _store("evt_unknown", None)
    old = staff_client.get("/staff/events/evt_old").get_data(as_text=True)
    assert f'data-stat="api-version">{OLD}' in old
    assert f"(ours is {app.config['STRIPE_API_VERSION']})" in old
    ours = staff_client.get("/staff/events/evt_ours").get_data(as_text=True)
    assert f'data-stat="api-version">{app.config["STRIPE_API_VERSION"]}</dd>' in ours
    unknown = staff_client.get("/staff/events/evt_unknown").get_data(as_text=True)
    assert 'data-stat="api-version">not recorded</dd>' in unknown


def test_the_dashboard_warns_about_recent_events_in_another_version(app, staff_client):
    pinned = app.config["STRIPE_API_VERSION"]
    for n in range(3):
        _store(f"evt_old_{n}", OLD, days_ago=n * 3)  # 0, 3 and 6 days ago
    _store("evt_older", "2023-10-16", days_ago=8)  # outside the window
    _store("evt_ours", pinned)
    _store("evt_unrecorded", None)
    assert _warnings(staff_client) == [
        f"3 events in the last 7 days arrived in API version {OLD}; the endpoint should be "
        f"on {pinned}: run <code>flask --app wsgi stripe setup --webhook-url "
        f"{app.config['SITE_URL']}/stripe/webhook</code>."
    ]


def test_no_warning_when_every_recent_event_is_in_our_version(app, staff_client):
    _store("evt_ours", app.config["STRIPE_API_VERSION"])
    _store("evt_long_ago", OLD, days_ago=30)
    assert _warnings(staff_client) == []
    with time_machine.travel(utcnow() - timedelta(days=29), tick=False):
        # A month ago, that old event was recent.
        assert len(_warnings(staff_client)) == 1
