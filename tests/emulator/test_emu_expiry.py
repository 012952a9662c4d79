"""Checkout Sessions expire at expires_at: the bounds, the clock, the event, the hosted page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe
from flask import Flask

from stripe_emulator import Emulator, EmulatorError, get_emulator

from .conftest import SITE, Inbox
from .sequences import delivered, only, types


def test_a_session_expires_when_the_clock_passes_expires_at(
    emu: Emulator,
    emu_session: Callable[..., Any],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    session = emu_session("payment")
    assert session.expires_at - session.created == 24 * 3600  # the default
    assert emu.advance_clock(23 * 3600)["expired"] == []
    assert emu_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert emu.advance_clock(3600)["expired"] == [session.id]
    events = delivered(emu, emu_inbox)
    assert types(events) == {"checkout.session.expired": 1}
    expired = only(events, "checkout.session.expired").data.object
    assert (expired.id, expired.status, expired.payment_status) == (session.id, "expired", "unpaid")
    assert expired.url is None
    assert emu.now() >= session.expires_at
    with pytest.raises(EmulatorError, match="expired"):
        emu.pay_checkout(session.id, "4242424242424242", email="late@example.com")
    assert delivered(emu, emu_inbox) == []  # expired once, and nothing paid


def test_expires_at_is_honoured_within_stripes_bounds(
    emu: Emulator, emu_session: Callable[..., Any], emu_inbox: Inbox
) -> None:
    soon = emu.now() + 45 * 60
    session = emu_session("payment", expires_at=soon)
    assert session.expires_at == soon
    emu.advance_clock(46 * 60)
    assert types(delivered(emu, emu_inbox)) == {"checkout.session.expired": 1}
    for offset, message in [
        (29 * 60, "at least 30 minutes"),
        (24 * 3600 + 60, "less than 24 hours"),
    ]:
        with pytest.raises(stripe.InvalidRequestError, match=message) as caught:
            emu_session("payment", expires_at=emu.now() + offset)
        assert caught.value.param == "expires_at"


def test_paying_after_expires_at_expires_the_session_first(
    emu: Emulator, emu_session: Callable[..., Any], emu_inbox: Inbox
) -> None:
    session = emu_session(expires_at=emu.now() + 30 * 60 + 5)
    # The clock moves by another route (another process advanced it): nothing swept yet.
    with emu.store.transaction() as tx:
        tx.set_setting("clock_offset", str(3600))
    with pytest.raises(EmulatorError, match="expired"):
        emu.pay_checkout(session.id, "4242424242424242", email="late@example.com")
    assert types(delivered(emu, emu_inbox)) == {"checkout.session.expired": 1}


def test_expire_now_control(
    emu: Emulator, emu_session: Callable[..., Any], emu_inbox: Inbox
) -> None:
    session = emu_session("payment")
    assert emu.expire_checkout(session.id)["status"] == "expired"
    assert types(delivered(emu, emu_inbox)) == {"checkout.session.expired": 1}
    with pytest.raises(EmulatorError, match="is expired"):
        emu.expire_checkout(session.id)
    with pytest.raises(EmulatorError, match="No such"):
        emu.expire_checkout("cs_test_missing")


def test_the_clock_only_moves_forward(emu: Emulator) -> None:
    with pytest.raises(EmulatorError):
        emu.advance_clock(-1)


def test_the_hosted_page_says_an_expired_session_cannot_be_paid(emu_app: Flask) -> None:
    emu = get_emulator(emu_app)
    client = stripe.StripeClient("sk_test_emulator", http_client=emu.http_client)
    price = {"currency": "eur", "unit_amount": 1000, "product_data": {"name": "Gift"}}
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": f"{SITE}/thanks",
            "cancel_url": f"{SITE}/support/cancelled",
        }
    )
    page = emu_app.test_client()
    assert page.get(f"/_emulator/checkout/{session.id}").status_code == 200
    runner = emu_app.test_cli_runner()
    moved = runner.invoke(args=["emulator", "advance-clock", "25h"])
    assert moved.exit_code == 0, moved.output
    assert "1 session(s) expired" in moved.output
    shown = page.get(f"/_emulator/checkout/{session.id}")
    assert shown.status_code == 410
    assert "This Checkout Session has expired" in shown.get_data(as_text=True)
    paid = page.post(
        f"/_emulator/checkout/{session.id}",
        data={"email": "a@example.com", "card_number": "4242424242424242", "exp": "12/34"},
    )
    assert paid.status_code == 410
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    other = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": f"{SITE}/thanks",
        }
    )
    expired = runner.invoke(args=["emulator", "expire", other.id])
    assert expired.exit_code == 0 and "expired" in expired.output
    bad = runner.invoke(args=["emulator", "advance-clock", "soon"])
    assert bad.exit_code != 0
