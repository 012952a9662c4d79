"""Fidelity to our pinned API version (2026-10-28.endive), each against its source.

- `ui_mode`: `hosted_page` since 2026-03-25.dahlia, `hosted` refused (Stripe changelog
  "Updates Checkout Session UI mode enum values"; stripe-python v16 SessionCreateParams).
- `payment_method_types`: removed from Checkout Session create in 2026-09-30.endive
  (changelog "Removes the payment method types parameter from Checkout Sessions").
- A declined card: `charge.failed` and `payment_intent.payment_failed`, shaped as Stripe's
  fixtures (stripe/openapi fixtures3.json, copied in tests/fixtures/stripe/).
- `invoice.upcoming` days before a renewal, its invoice without an id (API reference, types
  of events).
- Webhook URLs Stripe can't reach are refused; plain http in live mode too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import stripe

from stripe_emulator import CardDeclined, Emulator, EmulatorHTTPClient

from .conftest import API_VERSION, SITE, Inbox
from .sequences import delivered, fixture_keys, of_type, only, types


def test_a_session_is_on_the_hosted_page_and_refuses_the_values_dahlia_removed(
    emu_session: Callable[..., stripe.checkout.Session],
) -> None:
    assert emu_session().ui_mode == "hosted_page"
    assert emu_session(ui_mode="hosted_page").ui_mode == "hosted_page"
    for removed in ("hosted", "embedded", "custom"):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            emu_session(ui_mode=removed)
        assert caught.value.param == "ui_mode"


def test_payment_method_types_is_an_unknown_parameter_in_our_version(
    emu_session: Callable[..., stripe.checkout.Session],
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_session("payment", payment_method_types=["card"])
    assert caught.value.param == "payment_method_types"
    assert "Received unknown parameter: payment_method_types" in str(caught.value)
    # The session object still lists what it accepts (a response field, not a parameter).
    assert emu_session("payment").payment_method_types == ["card"]


def test_a_declined_card_fails_a_charge_of_the_sessions_payment_intent_and_another_pays_it(
    emu: Emulator,
    emu_session: Callable[..., stripe.checkout.Session],
    emu_client: stripe.StripeClient,
    emu_inbox: Inbox,
) -> None:
    session = emu_session("payment", customer_email="gift@example.org")
    with pytest.raises(CardDeclined):
        emu.pay_checkout(session.id, "4000 0000 0000 0002")
    declined = delivered(emu, emu_inbox)
    assert types(declined) == {
        "payment_intent.created": 1,
        "charge.failed": 1,
        "payment_intent.payment_failed": 1,
    }
    charge = only(declined, "charge.failed").data.object
    intent = only(declined, "payment_intent.payment_failed").data.object
    assert set(charge.to_dict()) == fixture_keys("charge") - {"refunds"}
    assert set(intent.to_dict()) == fixture_keys("payment_intent")
    assert (charge.status, charge.failure_code, charge.payment_intent) == (
        "failed",
        "card_declined",
        intent.id,
    )
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == "generic_decline"
    assert emu_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    emu.pay_checkout(session.id, "4242424242424242")
    paid = delivered(emu, emu_inbox)
    assert only(paid, "payment_intent.succeeded").data.object.id == intent.id
    assert "payment_intent.created" not in types(paid)


def test_invoice_upcoming_comes_days_before_the_renewal_without_an_id(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    emu.renew(emu_member.id)
    events = delivered(emu, emu_inbox)
    upcoming = only(events, "invoice.upcoming")
    created = only(events, "invoice.created")
    assert created.created - upcoming.created >= 86400  # days, never the same second
    preview = upcoming.data.object
    assert "id" not in preview.to_dict()
    assert preview.billing_reason == "upcoming"
    assert preview.amount_due == created.data.object.amount_due
    line = preview.lines.data[0]
    assert line.period.start == created.data.object.lines.data[0].period.start
    assert [e.type for e in of_type(events, "invoice.upcoming")] == ["invoice.upcoming"]


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:5000/stripe/webhook",
        "http://127.0.0.1:5000/stripe/webhook",
        "https://10.0.0.7/stripe/webhook",
        "https://192.168.1.20/stripe/webhook",
        "http://[::1]:8000/stripe/webhook",
        "https://app.localhost/stripe/webhook",
    ],
)
def test_endpoints_stripe_could_not_reach_are_refused(
    emu_factory: Callable[..., Emulator], url: str
) -> None:
    client = stripe.StripeClient(
        "sk_test_x", http_client=emu_factory(endpoint_url=None).http_client
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": ["*"]})
    assert caught.value.param == "url"
    assert "publicly accessible" in str(caught.value)


def test_only_the_host_apps_own_origin_may_be_local(
    emu_factory: Callable[..., Emulator],
) -> None:
    host = "http://127.0.0.1:5000"
    emu = emu_factory(endpoint_url=None, host_origin=host)
    client = stripe.StripeClient("sk_test_x", http_client=emu.http_client)
    made = client.v1.webhook_endpoints.create(
        params={"url": f"{host}/stripe/webhook", "enabled_events": ["*"]}
    )
    assert made.url == f"{host}/stripe/webhook"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(
            params={"url": "http://127.0.0.1:5001/stripe/webhook", "enabled_events": ["*"]}
        )


def _live(tmp_path: Path, **options: Any) -> Emulator:
    return Emulator(
        tmp_path / "live.sqlite3",
        site_url="https://news.example.org",
        api_version=API_VERSION,
        background=False,
        livemode=True,
        **options,
    )


def test_a_live_account_takes_live_keys_and_https_endpoints_only(tmp_path: Path) -> None:
    emu = _live(tmp_path)
    try:
        live = stripe.StripeClient("sk_live_x", http_client=EmulatorHTTPClient(emu))
        with pytest.raises(stripe.InvalidRequestError) as caught:
            live.v1.webhook_endpoints.create(
                params={"url": "http://news.example.org/stripe/webhook", "enabled_events": ["*"]}
            )
        assert caught.value.param == "url" and "HTTPS" in str(caught.value)
        made = live.v1.webhook_endpoints.create(
            params={"url": "https://news.example.org/stripe/webhook", "enabled_events": ["*"]}
        )
        assert made.livemode is True and made.secret.startswith("whsec_")
        assert live.v1.balance.retrieve().livemode is True
        # It emulates the set-up of a live account, never its payments.
        with pytest.raises(stripe.InvalidRequestError):
            live.v1.customers.create(params={"email": "x@example.org"})
        test_key = stripe.StripeClient("sk_test_x", http_client=EmulatorHTTPClient(emu))
        with pytest.raises(stripe.AuthenticationError):
            test_key.v1.balance.retrieve()
    finally:
        emu.close()


def test_a_test_delivery_is_signed_with_the_endpoints_own_secret(tmp_path: Path) -> None:
    inbox = Inbox()
    emu = _live(tmp_path, transport=inbox)
    try:
        live = stripe.StripeClient("sk_live_x", http_client=EmulatorHTTPClient(emu))
        made = live.v1.webhook_endpoints.create(
            params={"url": f"{SITE.replace('http:', 'https:')}/hook", "enabled_events": ["*"]}
        )
        sent = emu.send_test_webhook(made.id, "example.check", {"id": "x_1", "object": "x"})
        assert sent.ok and sent.status == 200
        ((url, body, headers),) = inbox.received
        assert url == made.url
        event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], made.secret)
        assert (event.id, event.type, event.livemode) == (sent.event_id, "example.check", True)
        assert emu.events() == []  # not an event of the account
    finally:
        emu.close()
