"""Webhook-test fixtures: a world of Stripe facts, and a signed sender to /stripe/webhook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.payments.stripe_events import World, post_event


@pytest.fixture
def world() -> World:
    """Stripe objects and events, each a minute after the last."""
    return World()


@pytest.fixture
def send(app, client) -> Callable[[dict[str, Any]], Any]:
    """Post one event, signed with the app's webhook secret; it must be taken (200)."""

    def send(event: dict[str, Any]) -> Any:
        response = post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    return send
