"""GET /metrics: Prometheus text for a bearer of METRICS_TOKEN, 404 for anyone else."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_user
from tests.payments.stripe_events import World, post_event

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def metrics_app(make_app):
    app = make_app(METRICS_TOKEN=TOKEN)
    with app.app_context():
        yield app


def _scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def _value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` in the exposition (0 when absent)."""
    for line in text.splitlines():
        match = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong",
        f"Basic {TOKEN}",
        TOKEN,  # the token without its scheme
        f"Bearer{TOKEN}",
        f"Token {TOKEN}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
    ],
)
def test_metrics_are_404_without_exactly_bearer_and_the_token(metrics_app, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert metrics_app.test_client().get("/metrics", headers=headers).status_code == 404


def test_metrics_are_404_when_no_token_is_set(client):
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_a_webhook_moves_its_counters_and_the_members_gauge(metrics_app):
    client = metrics_app.test_client()
    before = _scrape(client)
    user = make_user()
    world = World()
    event = world.event(
        "customer.subscription.created",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    secret = metrics_app.config["STRIPE_WEBHOOK_SECRET"]
    assert post_event(client, event, secret).status_code == 200
    assert post_event(client, event, secret).status_code == 200  # Stripe sends it twice
    after = _scrape(client)
    name = "donations_webhook_events_total"
    labels = {"type": "customer.subscription.created"}
    assert _value(after, name, **labels, outcome="processed") == 1
    assert _value(after, name, **labels, outcome="duplicate") == 1
    assert _value(before, "donations_members") == 0
    assert _value(after, "donations_members") == 1
    assert _value(after, "donations_webhook_backlog_events") == 0
    route = {"route": "/stripe/webhook", "method": "POST", "status": "200"}
    assert _value(after, "donations_http_requests_total", **route) == 2
    assert _value(after, "donations_http_request_duration_seconds_count", route=route["route"]) == 2


def test_rate_limit_hits_are_counted(metrics_app):
    client = metrics_app.test_client()
    data = {"email": "target@example.org", "password": "wrong password guess"}
    for _ in range(6):
        client.post("/login", data=data)
    assert _value(_scrape(client), "donations_rate_limit_hits_total", route="/login") == 1


def test_an_invented_method_is_counted_as_other_so_series_stay_bounded(metrics_app):
    client = metrics_app.test_client()
    for word in ("BREW", "WHEN", "XYZZY"):
        assert client.open("/", method=word).status_code == 405
    text = _scrape(client)
    assert _value(text, "donations_http_requests_total", method="other", status="405") == 3
    assert "BREW" not in text and "XYZZY" not in text


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_schemes_name_is_taken_in_any_case(metrics_app, scheme):
    # RFC 9110 §11.1: an authentication scheme's name is case-insensitive; the token is not.
    client = metrics_app.test_client()
    ok = client.get("/metrics", headers={"Authorization": f"{scheme} {TOKEN}"})
    assert ok.status_code == 200
    swapped = client.get("/metrics", headers={"Authorization": f"{scheme} {TOKEN.swapcase()}"})
    assert swapped.status_code == 404
