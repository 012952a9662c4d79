"""The hosted Checkout and Billing Portal pages, and the `flask emulator` commands."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
import stripe
from flask import Flask

from stripe_emulator import Emulator, get_emulator

from .conftest import SITE, Inbox
from .test_emu_flows import ONE_TIME_CHECKOUT
from .test_emu_renewals import FAILED, NEW_PERIOD, PAST_DUE


def _client(app: Flask) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", http_client=get_emulator(app).http_client)


def _session(app: Flask, mode: str = "subscription", **extra: Any) -> stripe.checkout.Session:
    price: dict[str, Any] = {
        "currency": "usd" if mode == "subscription" else "eur",
        "unit_amount": 800 if mode == "subscription" else 1000,
        "product_data": {"name": "Membership" if mode == "subscription" else "One-time gift"},
    }
    if mode == "subscription":
        price["recurring"] = {"interval": "month"}
    params = {
        "mode": mode,
        "line_items": [{"price_data": price, "quantity": 1}],
        "success_url": f"{SITE}/support/thanks?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{SITE}/support/cancelled",
        **extra,
    }
    return _client(app).v1.checkout.sessions.create(params=params)


GOOD = {"card_number": "4242 4242 4242 4242", "exp": "12 / 34", "cvc": "123", "name": "Ada"}


def test_checkout_page_shows_the_purchase(emu_app: Flask) -> None:
    session = _session(emu_app, customer_email="reader@example.com")
    page = emu_app.test_client().get(f"/_emulator/checkout/{session.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Test mode — Stripe emulator" in html
    assert "The Test Ledger" in html
    assert "Membership — $8.00 / month" in html
    assert re.search(r'id="email"[^>]*value="reader@example.com"[^>]*readonly', html)
    assert 'autocomplete="cc-number"' in html
    assert 'inputmode="numeric"' in html
    assert f'href="{SITE}/support/cancelled"' in html
    assert "/_emulator/static/emulator.css" in html
    assert "style=" not in html and "<style" not in html and "<script" not in html
    css = emu_app.test_client().get("/_emulator/static/emulator.css")
    css.close()  # a file response: close it, or its handle leaks (a warning, hence an error)
    assert css.status_code == 200


def test_one_time_gift_page_and_pay(emu_app: Flask, emu_inbox: Inbox) -> None:
    session = _session(emu_app, "payment")
    client = emu_app.test_client()
    html = client.get(f"/_emulator/checkout/{session.id}").get_data(as_text=True)
    assert "One-time gift — €10.00" in html
    paid = client.post(
        f"/_emulator/checkout/{session.id}", data={**GOOD, "email": "giver@example.com"}
    )
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"{SITE}/support/thanks?session_id={session.id}"
    get_emulator(emu_app).deliver_pending(timeout=2)
    # customer_creation defaults to if_required: a guest's gift creates no customer.
    assert Counter(emu_inbox.types()) == ONE_TIME_CHECKOUT
    done = client.get(f"/_emulator/checkout/{session.id}")
    assert "already complete" in done.get_data(as_text=True)
    assert f"session_id={session.id}" in done.get_data(as_text=True)


def test_declined_card_shows_message_and_keeps_email(emu_app: Flask) -> None:
    session = _session(emu_app)
    client = emu_app.test_client()
    declined = client.post(
        f"/_emulator/checkout/{session.id}",
        data={**GOOD, "card_number": "4000 0000 0000 0002", "email": "typed@example.com"},
    )
    assert declined.status_code == 402
    html = declined.get_data(as_text=True)
    assert re.search(r'role="alert"[^>]*>Your card was declined\.', html)
    assert 'value="typed@example.com"' in html
    assert "4000 0000 0000 0002" not in html.split("Test cards")[0]
    ok = client.post(
        f"/_emulator/checkout/{session.id}", data={**GOOD, "email": "typed@example.com"}
    )
    assert ok.status_code == 303


def test_checkout_form_errors(emu_app: Flask) -> None:
    session = _session(emu_app)
    client = emu_app.test_client()
    bad_email = client.post(f"/_emulator/checkout/{session.id}", data={**GOOD, "email": "nope"})
    assert bad_email.status_code == 400
    past = client.post(
        f"/_emulator/checkout/{session.id}",
        data={**GOOD, "email": "a@example.com", "exp": "01/20"},
    )
    assert past.status_code == 402
    assert "expiration date is in the past" in past.get_data(as_text=True)
    assert client.get("/_emulator/checkout/cs_test_unknown").status_code == 404


def test_portal_cancel_at_period_end_and_resume(emu_app: Flask, emu_inbox: Inbox) -> None:
    session = _session(emu_app, customer_email="member@example.com")
    emu: Emulator = get_emulator(emu_app)
    emu.pay_checkout(session.id, "4242424242424242")
    emu.create_default_portal_configuration()  # as saved in the Dashboard
    sdk = _client(emu_app)
    paid = sdk.v1.checkout.sessions.retrieve(session.id)
    portal = sdk.v1.billing_portal.sessions.create(
        params={"customer": paid.customer, "return_url": f"{SITE}/account"}
    )
    client = emu_app.test_client()
    page = client.get(f"/_emulator/portal/{portal.id}").get_data(as_text=True)
    assert "$8.00 / month" in page and "active" in page
    assert f'href="{SITE}/account"' in page
    emu.deliver_pending(timeout=2)
    emu_inbox.received.clear()
    cancel = {"action": "cancel_at_period_end", "subscription": paid.subscription}
    # As Stripe's portal: the first click asks, and says what cancelling does.
    asked = client.post(f"/_emulator/portal/{portal.id}", data=cancel)
    assert asked.status_code == 200 and "Confirm cancellation" in asked.get_data(as_text=True)
    assert "still available until the end of your billing period" in asked.get_data(True)
    assert sdk.v1.subscriptions.retrieve(paid.subscription).cancel_at_period_end is False
    answer = client.post(f"/_emulator/portal/{portal.id}", data={**cancel, "confirm": "1"})
    assert answer.status_code == 303
    after = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Cancels at period end" in after
    assert "Resume" in after
    assert sdk.v1.subscriptions.retrieve(paid.subscription).cancel_at_period_end is True
    client.post(
        f"/_emulator/portal/{portal.id}",
        data={"action": "resume", "subscription": paid.subscription},
    )
    emu.deliver_pending(timeout=2)
    assert emu_inbox.types() == ["customer.subscription.updated"] * 2
    stranger = client.post(
        f"/_emulator/portal/{portal.id}", data={"action": "cancel_now", "subscription": "sub_x"}
    )
    assert stranger.status_code == 400


@pytest.mark.parametrize(
    ("cancel", "shown", "refused"),
    [
        ({"enabled": True, "mode": "at_period_end"}, "Cancel at period end", "cancel_now"),
        ({"enabled": True, "mode": "immediately"}, "Cancel now", "cancel_at_period_end"),
        ({"enabled": False}, None, "cancel_now"),
    ],
)
def test_portal_offers_only_what_its_configuration_enables(
    emu_app: Flask, cancel: dict, shown: str | None, refused: str
) -> None:
    session = _session(emu_app, customer_email="member@example.com")
    emu: Emulator = get_emulator(emu_app)
    emu.pay_checkout(session.id, "4242424242424242")
    sdk = _client(emu_app)
    config = sdk.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": cancel}}
    )
    paid = sdk.v1.checkout.sessions.retrieve(session.id)
    portal = sdk.v1.billing_portal.sessions.create(
        params={"customer": paid.customer, "configuration": config.id}
    )
    client = emu_app.test_client()
    page = client.get(f"/_emulator/portal/{portal.id}").get_data(as_text=True)
    for label in ("Cancel at period end", "Cancel now"):
        assert (label in page) is (label == shown)
    answer = client.post(
        f"/_emulator/portal/{portal.id}",
        data={"action": refused, "subscription": paid.subscription},
    )
    assert answer.status_code == 403
    assert sdk.v1.subscriptions.retrieve(paid.subscription).status == "active"


def test_cli_controls(emu_app: Flask, emu_inbox: Inbox) -> None:
    session = _session(emu_app, customer_email="cli@example.com")
    emu = get_emulator(emu_app)
    emu.pay_checkout(session.id, "4242424242424242")
    sub_id = str(_client(emu_app).v1.checkout.sessions.retrieve(session.id).subscription)
    runner = emu_app.test_cli_runner()
    listed = runner.invoke(args=["emulator", "list"])
    assert listed.exit_code == 0, listed.output
    assert sub_id in listed.output and "cli@example.com" in listed.output
    renewed = runner.invoke(args=["emulator", "renew", sub_id, "--fail"])
    assert renewed.exit_code == 0, renewed.output
    assert "past_due" in renewed.output
    assert "Webhooks: 21 delivered" in renewed.output  # 12 from Checkout, 9 from the renewal
    assert Counter(emu_inbox.types()[-9:]) == NEW_PERIOD + FAILED + PAST_DUE
    dunned = runner.invoke(
        args=["emulator", "renew", sub_id, "--fail", "--retries", "1", "--then", "paused"]
    )
    assert dunned.exit_code == 0, dunned.output
    assert "status paused" in dunned.output
    assert "the emulator's clock reads" in dunned.output  # three days on, for the retry
    assert emu_inbox.types()[-2:] == [
        "customer.subscription.paused",
        "customer.subscription.updated",
    ]
    cancel = runner.invoke(args=["emulator", "cancel", sub_id, "--now"])
    assert "canceled" in cancel.output
    missing = runner.invoke(args=["emulator", "renew", "sub_nope"])
    assert missing.exit_code != 0
    assert "No such subscription" in missing.output
    bad_then = runner.invoke(args=["emulator", "renew", sub_id, "--then", "deleted"])
    assert bad_then.exit_code != 0
    drop = runner.invoke(args=["emulator", "drop-deliveries", "on"])
    assert drop.exit_code == 0 and emu.drop_deliveries is True
    event_id = emu.events("invoice.paid")[0]["id"]
    resend = runner.invoke(args=["emulator", "resend", event_id])
    assert resend.exit_code == 0
    assert emu_inbox.events()[-1].id == event_id


def test_cli_refund_and_dispute_controls(emu_app: Flask) -> None:
    session = _session(emu_app, customer_email="cli@example.com")
    emu = get_emulator(emu_app)
    emu.pay_checkout(session.id, "4242424242424242")
    charge_id = next(c["id"] for c in emu.list_objects("charge") if c["status"] == "succeeded")
    runner = emu_app.test_cli_runner()

    def refund() -> str:
        made = runner.invoke(args=["emulator", "refund", charge_id, "--amount", "100"])
        assert made.exit_code == 0 and "Refunded 100 usd" in made.output, made.output
        return made.output.split("(")[1].split(")")[0]

    canceled = runner.invoke(args=["emulator", "refund-cancel", refund()])
    assert canceled.exit_code == 0 and "canceled" in canceled.output, canceled.output
    failed = runner.invoke(args=["emulator", "refund-fail", refund(), "--reason", "declined"])
    assert failed.exit_code == 0 and "failed" in failed.output, failed.output
    again = runner.invoke(args=["emulator", "refund-fail", "re_missing"])
    assert again.exit_code != 0 and "No such refund" in again.output
    inquiry = runner.invoke(args=["emulator", "dispute", charge_id, "--inquiry"])
    assert inquiry.exit_code == 0 and "warning_needs_response" in inquiry.output
    escalated = runner.invoke(args=["emulator", "dispute", charge_id, "--status", "needs_response"])
    assert escalated.exit_code == 0 and "needs_response" in escalated.output
    won = runner.invoke(args=["emulator", "dispute", charge_id, "--close", "won"])
    assert won.exit_code == 0 and "won" in won.output
