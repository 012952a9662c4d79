"""Fixtures for the emulator tests; all prefixed `emu_` to stay clear of the app's fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from flask import Flask
from flask_wtf import CSRFProtect

from stripe_emulator import Emulator, EmulatorHTTPClient, init_app

SECRET = "whsec_test_emulator_secret"
API_VERSION = "2026-10-28.endive"
SITE = "http://shop.test"


class Inbox:
    """A webhook transport that records every delivery and answers with a chosen status."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes, dict[str, str]]] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        self.received.append((url, body, headers))
        return self.statuses.pop(0) if self.statuses else 200

    def events(self) -> list[stripe.Event]:
        """Every delivered body, verified and parsed by the real SDK."""
        return [
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
            for _, body, headers in self.received
        ]

    def types(self) -> list[str]:
        """The types of the delivered events, in delivery order."""
        return [event.type for event in self.events()]


@pytest.fixture
def emu_inbox() -> Inbox:
    """A recording webhook receiver."""
    return Inbox()


WEBHOOK_URL = f"{SITE}/stripe/webhook"


def register_endpoint(
    emulator: Emulator, url: str = WEBHOOK_URL, events: tuple[str, ...] = ("*",), **params: Any
) -> stripe.WebhookEndpoint:
    """Register a webhook endpoint through the real SDK, as a host app would."""
    client = stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client)
    return client.v1.webhook_endpoints.create(
        params={"url": url, "enabled_events": list(events), **params}
    )


@pytest.fixture
def emu_factory(tmp_path: Path, emu_inbox: Inbox) -> Iterator[Callable[..., Emulator]]:
    """Build emulators on this test's state file (several = a restart or another process).

    Each registers an all-events endpoint at `endpoint_url` unless the state already has one
    there (a second emulator on the file is a restart, not a new subscriber); None: none.
    """
    made: list[Emulator] = []

    def factory(endpoint_url: str | None = WEBHOOK_URL, **overrides: Any) -> Emulator:
        options: dict[str, Any] = {
            "site_url": SITE,
            "signing_secret": SECRET,
            "api_version": API_VERSION,
            "transport": emu_inbox,
            "retry_base_seconds": 0.01,
            "retry_cap_seconds": 0.05,
            "max_attempts": 3,
            "background": False,
        }
        options.update(overrides)
        path = options.pop("path", tmp_path / "stripe-emulator.sqlite3")
        emulator = Emulator(path, **options)
        made.append(emulator)
        known = {e["url"] for e in emulator.list_objects("webhook_endpoint")}
        if endpoint_url is not None and endpoint_url not in known:
            register_endpoint(emulator, endpoint_url)
        return emulator

    yield factory
    for emulator in made:
        emulator.close()


@pytest.fixture
def emu(emu_factory: Callable[..., Emulator]) -> Emulator:
    """A fresh emulator delivering webhooks synchronously into `emu_inbox`."""
    return emu_factory()


@pytest.fixture
def emu_client(emu: Emulator) -> stripe.StripeClient:
    """The real SDK talking to the emulator."""
    return stripe.StripeClient(
        "sk_test_emulator", http_client=EmulatorHTTPClient(emu), stripe_version=API_VERSION
    )


@pytest.fixture
def emu_session(emu_client: stripe.StripeClient) -> Callable[..., stripe.checkout.Session]:
    """Create a Checkout Session the way the app does; keyword arguments override params."""

    def create(mode: str = "subscription", **overrides: Any) -> stripe.checkout.Session:
        price: dict[str, Any] = {
            "currency": "usd",
            "unit_amount": 800,
            "product_data": {"name": "Membership" if mode == "subscription" else "One-time gift"},
        }
        if mode == "subscription":
            price["recurring"] = {"interval": "month"}
        params: dict[str, Any] = {
            "mode": mode,
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": f"{SITE}/support/thanks?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{SITE}/support/cancelled",
            "client_reference_id": "42",
            "metadata": {"user_id": "42"},
        }
        key = "subscription_data" if mode == "subscription" else "payment_intent_data"
        params[key] = {"metadata": {"user_id": "42"}}
        params.update(overrides)
        return emu_client.v1.checkout.sessions.create(params=params)

    return create


@pytest.fixture
def emu_member(
    emu: Emulator,
    emu_session: Callable[..., stripe.checkout.Session],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> stripe.Subscription:
    """A paid monthly membership; the inbox is emptied after its events are delivered."""
    session = emu_session(customer_email="reader@example.com")
    emu.pay_checkout(session.id, "4242 4242 4242 4242", name="Ada Reader")
    emu.deliver_pending(timeout=2)
    emu_inbox.received.clear()
    sub_id = emu_client.v1.checkout.sessions.retrieve(session.id).subscription
    assert isinstance(sub_id, str)
    return emu_client.v1.subscriptions.retrieve(sub_id)


@pytest.fixture
def emu_app(tmp_path: Path, emu_inbox: Inbox) -> Iterator[Flask]:
    """A minimal Flask app in emulator mode: init_app, the pages and the CLI.

    It has no templates or static files of its own: the emulator's pages come with the package.
    """
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        TESTING=True,
        SECRET_KEY="emulator-tests",
        WTF_CSRF_ENABLED=False,
        SITE_NAME="The Test Ledger",
        SITE_URL=SITE,
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_API_VERSION=API_VERSION,
        STRIPE_EMULATOR_DB=None,
        STRIPE_EMULATOR_TRANSPORT=emu_inbox,
        STRIPE_EMULATOR_BACKGROUND=False,
        STRIPE_EMULATOR_RETRY_BASE=0.01,
        STRIPE_EMULATOR_CLI_TIMEOUT=1.0,
    )
    CSRFProtect(app)
    emulator = init_app(app)
    register_endpoint(emulator)
    yield app
    emulator.close()
