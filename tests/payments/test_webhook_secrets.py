"""Webhook signing secrets: several at once (rotation), none yet (503), and the 300 s window
both ways (a future-dated signature is refused too)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from secrets import token_hex

import pytest
import stripe
from flask import Flask

NEW, OLD = "whsec_" + "n" * 32, "whsec_" + "o" * 32


def _body() -> bytes:
    event = {
        "id": f"evt_{token_hex(8)}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "type": "example.unhandled",
        "data": {"object": {"id": "x_1", "object": "example"}},
    }
    return json.dumps(event).encode()


def _post(app: Flask, secret: str, *, at: float | None = None) -> int:
    body = _body()
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=int(at if at is not None else time.time())
    )
    response = app.test_client().post(
        "/stripe/webhook", data=body, headers={"Stripe-Signature": header}
    )
    return response.status_code


def test_a_delivery_signed_with_any_configured_secret_passes(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(STRIPE_WEBHOOK_SECRET=f"{NEW}, {OLD}")
    assert app.config["STRIPE_WEBHOOK_SECRETS"] == (NEW, OLD)
    assert _post(app, NEW) == 200
    assert _post(app, OLD) == 200
    assert _post(app, "whsec_" + "x" * 32) == 400


@pytest.mark.parametrize(
    ("offset", "status"),
    [(0, 200), (-290, 200), (290, 200), (-310, 400), (310, 400), (86400, 400)],
)
def test_signatures_older_or_newer_than_300_seconds_are_refused(
    make_app: Callable[..., Flask], offset: int, status: int
) -> None:
    app = make_app(STRIPE_WEBHOOK_SECRET=NEW)
    assert _post(app, NEW, at=time.time() + offset) == status


def test_without_a_secret_every_delivery_waits_with_a_503_that_says_why(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(STRIPE_EMULATOR="0", STRIPE_SECRET_KEY="sk_test_" + token_hex(8))
    assert app.config["STRIPE_WEBHOOK_SECRETS"] == ()
    assert _post(app, NEW) == 503
    assert "STRIPE_WEBHOOK_SECRET is not set" in caplog.text
