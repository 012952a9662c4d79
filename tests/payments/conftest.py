"""Fixtures for the supporter flow and webhooks: the app's own emulator, delivering in-process."""

from __future__ import annotations

import pytest
from flask import Flask

from stripe_emulator import Emulator, get_emulator


@pytest.fixture
def emulator(app: Flask) -> Emulator:
    """The app's Stripe emulator; its signed events go to /stripe/webhook through a test client.

    Deliveries are synchronous here (call emulator.deliver_pending()), so tests are exact.
    """
    emu = get_emulator(app)
    webhook_client = app.test_client()

    def transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        return webhook_client.post("/stripe/webhook", data=body, headers=headers).status_code

    emu.deliverer.transport = transport
    return emu
