"""/healthz and /metrics tell the truth about the webhook queue: events stuck, no worker alive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from donations.extensions import db
from donations.models import StripeEvent, WebhookWorker, utcnow
from donations.payments.heartbeat import Heartbeat
from tests.hardening.test_metrics import TOKEN, _value
from tests.payments.stripe_events import World, post_event


@pytest.fixture
def queue_app(make_app):
    app = make_app(WEBHOOK_QUEUE="1", METRICS_TOKEN=TOKEN)
    with app.app_context():
        yield app


def _store_event(app, n: int = 1, *, age: float = 0.0) -> None:
    world = World()
    event = world.event(
        "customer.subscription.created", world.subscription(f"sub_{n}", f"cus_{n}", "active")
    )
    response = post_event(app.test_client(), event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.json["status"] == "queued"
    if age:
        db.session.execute(
            update(StripeEvent)
            .where(StripeEvent.stripe_event_id == event["id"])
            .values(received_at=utcnow() - timedelta(seconds=age))
        )
        db.session.commit()


def _beat(age: float = 0.0) -> Heartbeat:
    heart = Heartbeat()
    heart.beat(force=True)
    if age:
        db.session.execute(
            update(WebhookWorker)
            .where(WebhookWorker.id == heart.id)
            .values(beat_at=utcnow() - timedelta(seconds=age))
        )
    db.session.commit()
    return heart


def _health(app):
    response = app.test_client().get("/healthz")
    return response.status_code, response.json


def _scrape(app) -> str:
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_empty_queue_is_ok_even_with_no_worker(queue_app):
    status, body = _health(queue_app)
    assert (status, body["status"], body["webhooks"]) == (200, "ok", "ok")
    assert body["checks"]["webhooks"]["workers_live"] == 0


def test_events_waiting_with_no_live_worker_are_down_with_503(queue_app):
    _store_event(queue_app)
    status, body = _health(queue_app)
    assert (status, body["status"], body["webhooks"]) == (503, "down", "down")
    assert body["checks"]["webhooks"]["pending"] == 1
    assert body["checks"]["database"]["status"] == "ok"


def test_a_worker_that_stopped_beating_is_not_alive(queue_app):
    _store_event(queue_app)
    liveness = queue_app.config["WEBHOOK_WORKER_LIVENESS_SECONDS"]
    _beat(age=liveness + 5)
    status, body = _health(queue_app)
    assert (status, body["status"]) == (503, "down")
    assert _value(_scrape(queue_app), "donations_webhook_workers_live") == 0


def test_a_fresh_event_with_a_live_worker_is_ok(queue_app):
    _beat()
    _store_event(queue_app)
    status, body = _health(queue_app)
    assert (status, body["status"], body["checks"]["webhooks"]["workers_live"]) == (200, "ok", 1)


def test_an_event_waiting_longer_than_the_threshold_is_degraded(queue_app):
    stuck = queue_app.config["WEBHOOK_STUCK_SECONDS"]
    assert stuck == 10  # the documented default
    _beat()
    _store_event(queue_app, age=stuck + 10)
    status, body = _health(queue_app)
    assert (status, body["status"], body["webhooks"]) == (200, "degraded", "degraded")
    assert body["checks"]["webhooks"]["oldest_pending_seconds"] >= stuck + 10


def test_metrics_export_the_oldest_waiting_age_and_the_live_workers(queue_app):
    text = _scrape(queue_app)
    assert _value(text, "donations_webhook_oldest_waiting_seconds") == 0
    assert _value(text, "donations_webhook_workers_live") == 0
    _beat()
    _beat()
    _beat(age=60)  # a dead one
    _store_event(queue_app, 1, age=30)
    _store_event(queue_app, 2)
    text = _scrape(queue_app)
    assert 30 <= _value(text, "donations_webhook_oldest_waiting_seconds") < 40
    assert _value(text, "donations_webhook_workers_live") == 2


def test_a_worker_that_stops_cleanly_forgets_its_heartbeat(queue_app):
    heart = _beat()
    heart.forget()
    db.session.commit()
    assert db.session.get(WebhookWorker, heart.id) is None


def test_without_the_queue_waiting_events_never_make_the_site_down(make_app):
    app = make_app(WEBHOOK_STUCK_SECONDS="5")
    with app.app_context():
        db.session.add(
            StripeEvent(
                stripe_event_id="evt_stuck", type="x", created=utcnow(), livemode=False,
                payload="{}", status="received", received_at=utcnow() - timedelta(seconds=30),
            )
        )  # fmt: skip
        db.session.commit()
        status, body = _health(app)
        assert (status, body["status"], body["webhooks"]) == (200, "degraded", "degraded")
        assert "workers_live" not in body["checks"]["webhooks"]
