"""Staff-test fixtures: a logged-in staff client, and the emulator delivering in-process."""

from __future__ import annotations

import pytest
from flask import Flask

from stripe_emulator import Emulator, get_emulator
from tests.factories import login, make_user


@pytest.fixture
def staff(db):
    """A staff account."""
    return make_user(email="editor@example.org", is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    """A test client logged in as staff."""
    login(client, staff)
    return client


@pytest.fixture
def emulator(app: Flask) -> Emulator:
    """The app's Stripe emulator; deliveries go to /stripe/webhook through a test client."""
    emu = get_emulator(app)
    webhook_client = app.test_client()

    def transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        return webhook_client.post("/stripe/webhook", data=body, headers=headers).status_code

    emu.deliverer.transport = transport
    return emu
