"""The webhook ledger for staff: filters, escaped payloads, and replay of failed events."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from donations.extensions import db
from donations.models import Membership, StripeEvent
from tests.factories import login, make_user
from tests.staff.factories import store, subscription_event


def test_the_ledger_lists_and_filters_events(staff_client):
    store(subscription_event("evt_failed"), "failed", "KeyError: boom")
    store({**subscription_event("evt_done"), "type": "invoice.paid"}, "processed")
    everything = staff_client.get("/staff/events").get_data(as_text=True)
    assert "evt_failed" in everything and "evt_done" in everything
    assert "KeyError: boom" in everything
    failed = staff_client.get("/staff/events?status=failed").get_data(as_text=True)
    assert "evt_failed" in failed and "evt_done" not in failed
    by_type = staff_client.get("/staff/events?type=invoice.paid").get_data(as_text=True)
    assert "evt_done" in by_type and "evt_failed" not in by_type
    # Only failed events offer a replay.
    assert everything.count("Replay</button>") == 1


def test_the_payload_is_shown_indented_and_escaped(staff_client):
    store(subscription_event("evt_show"), "processed")
    html = staff_client.get("/staff/events/evt_show").get_data(as_text=True)
    assert "\n  &#34;data&#34;: {" in html or '\n  "data": {' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert staff_client.get("/staff/events/evt_unknown").status_code == 404


def test_replaying_a_failed_event_processes_it_and_says_so(staff_client, staff):
    store(subscription_event("evt_retry", user_id=staff.id), "failed", "OperationalError: gone")
    response = staff_client.post("/staff/events/evt_retry/replay", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "evt_retry replayed: processed." in html
    db.session.expire_all()
    row = db.session.scalar(select(StripeEvent).where(StripeEvent.stripe_event_id == "evt_retry"))
    assert (row.status, row.attempts, row.error) == ("processed", 2, None)
    membership = db.session.scalar(select(Membership))
    assert (membership.stripe_subscription_id, membership.user_id) == ("sub_replayed", staff.id)


def test_a_replay_that_fails_again_keeps_the_event_failed(staff_client):
    broken = subscription_event("evt_broken")
    del broken["data"]["object"]["customer"]  # no customer and no user: cannot be applied
    broken["data"]["object"]["metadata"] = {}
    store(broken, "failed", "ValueError: no customer")
    html = staff_client.post("/staff/events/evt_broken/replay", follow_redirects=True).get_data(
        True
    )
    assert "evt_broken failed again: ValueError" in html
    assert db.session.scalar(select(Membership)) is None


@pytest.mark.parametrize("status", ["processed", "ignored"])
def test_only_failed_events_can_be_replayed(staff_client, status):
    store(subscription_event("evt_fine"), status)
    html = staff_client.post("/staff/events/evt_fine/replay", follow_redirects=True).get_data(True)
    assert f"evt_fine is {status}; only failed events are replayed." in html
    assert db.session.scalar(select(Membership)) is None


def test_replay_needs_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        login(client, make_user(is_staff=True))
        store(subscription_event("evt_csrf"), "failed", "x")
    assert client.post("/staff/events/evt_csrf/replay").status_code == 400
    page = client.get("/staff/events/evt_csrf").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/staff/events/evt_csrf/replay", data={"csrf_token": token})
    assert response.status_code == 302
