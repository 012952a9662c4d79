"""Payloads in each endpoint's API version, and fields Stripe sends only when expanded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from stripe_emulator import Emulator

from .conftest import API_VERSION, SECRET, SITE, register_endpoint
from .sdk_shapes import unasked_fields

OLD = "2024-06-20"  # before 2025-03-31.basil and after 2022-11-15
OLDER = "2022-08-01"  # before 2022-11-15, when charges still included their refunds


class Payloads:
    """A transport keeping each delivery as (endpoint URL, verified event dict)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"], SECRET)
        self.received.append((url, json.loads(body)))
        return 200

    def at(self, url: str, event_type: str | None = None) -> list[dict[str, Any]]:
        """The events one endpoint received (of one type)."""
        return [e for u, e in self.received if u == url and event_type in (None, e["type"])]


@pytest.fixture
def payloads() -> Payloads:
    return Payloads()


@pytest.fixture
def versioned(emu_factory: Callable[..., Emulator], payloads: Payloads) -> Emulator:
    """Endpoints on the current version, on 2024-06-20 and on 2022-08-01."""
    emu = emu_factory(endpoint_url=None, transport=payloads)
    register_endpoint(emu, f"{SITE}/now", ("*",))
    register_endpoint(emu, f"{SITE}/old", ("*",), api_version=OLD)
    register_endpoint(emu, f"{SITE}/older", ("*",), api_version=OLDER)
    return emu


def _member(emu: Emulator, emu_session: Callable[..., Any]) -> str:
    session = emu_session(customer_email="reader@example.com")
    emu.pay_checkout(session.id, "4242424242424242")
    return str(emu.get(session.id)["subscription"])  # type: ignore[index]


def _client(emu: Emulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", http_client=emu.http_client)


def test_old_version_endpoint_gets_the_pre_basil_layout(
    versioned: Emulator, emu_session: Callable[..., Any], payloads: Payloads
) -> None:
    sub_id = _member(versioned, emu_session)
    versioned.deliver_pending(timeout=2)
    (created,) = payloads.at(f"{SITE}/old", "customer.subscription.created")
    assert created["api_version"] == OLD
    sub = created["data"]["object"]
    item = sub["items"]["data"][0]
    stored = versioned.get(sub_id)["items"]["data"][0]  # type: ignore[index]
    assert sub["current_period_start"] == stored["current_period_start"]
    assert sub["current_period_end"] == stored["current_period_end"]
    assert "current_period_end" not in item  # items got their periods only in basil
    assert item["plan"]["interval"] == "month" and item["price"]["recurring"]["interval"]
    (paid,) = payloads.at(f"{SITE}/old", "invoice.paid")
    invoice = paid["data"]["object"]
    pi = _client(versioned).v1.payment_intents.list().data[0]
    assert (invoice["subscription"], invoice["payment_intent"]) == (sub_id, pi.id)
    assert invoice["charge"] == pi.latest_charge and invoice["paid"] is True
    assert "parent" not in invoice
    line = invoice["lines"]["data"][0]
    assert (line["subscription"], line["type"]) == (sub_id, "subscription")
    assert "parent" not in line
    # The SDK reads the old layout too: the endpoint's integration can rely on these fields.
    event = stripe.Webhook.construct_event(json.dumps(paid), _header(paid), SECRET)
    assert event.data.object.subscription == sub_id


def _header(event: dict[str, Any]) -> str:
    from stripe_emulator import sign

    return sign(json.dumps(event).encode(), SECRET)


def test_current_version_endpoint_gets_the_current_layout(
    versioned: Emulator, emu_session: Callable[..., Any], payloads: Payloads
) -> None:
    sub_id = _member(versioned, emu_session)
    versioned.deliver_pending(timeout=2)
    (created,) = payloads.at(f"{SITE}/now", "customer.subscription.created")
    assert created["api_version"] == API_VERSION
    assert "current_period_end" not in created["data"]["object"]
    (paid,) = payloads.at(f"{SITE}/now", "invoice.paid")
    invoice = paid["data"]["object"]
    assert invoice["parent"]["subscription_details"]["subscription"] == sub_id
    assert not {"subscription", "payment_intent", "charge", "paid"} & set(invoice)


def test_renewal_previous_attributes_name_the_period_where_the_version_keeps_it(
    versioned: Emulator, emu_session: Callable[..., Any], payloads: Payloads
) -> None:
    sub_id = _member(versioned, emu_session)
    old_end = versioned.get(sub_id)["items"]["data"][0]["current_period_end"]  # type: ignore[index]
    versioned.deliver_pending(timeout=2)
    payloads.received.clear()
    versioned.renew(sub_id)
    versioned.deliver_pending(timeout=2)
    (old,) = payloads.at(f"{SITE}/old", "customer.subscription.updated")
    assert old["data"]["previous_attributes"]["current_period_end"] == old_end
    assert "items" not in old["data"]["previous_attributes"]  # no period on items back then
    assert old["data"]["object"]["current_period_start"] == old_end
    (now,) = payloads.at(f"{SITE}/now", "customer.subscription.updated")
    assert "current_period_end" not in now["data"]["previous_attributes"]
    assert now["data"]["previous_attributes"]["items"]["data"][0]["current_period_end"] == old_end


def test_invoice_payments_is_in_no_payload_only_in_an_expanded_retrieve(
    versioned: Emulator, emu_session: Callable[..., Any], payloads: Payloads
) -> None:
    sub_id = _member(versioned, emu_session)
    versioned.renew(sub_id, fail=True)
    versioned.renew(sub_id)
    versioned.deliver_pending(timeout=2)
    invoices = [
        e["data"]["object"] for _, e in payloads.received if e["type"].startswith("invoice.")
    ]
    assert len(invoices) >= 9  # paid, failed, paid again, to three endpoints
    assert all("payments" not in invoice for invoice in invoices)
    client = _client(versioned)
    invoice_id = invoices[0]["id"]
    assert "payments" not in client.v1.invoices.retrieve(invoice_id)
    assert all("payments" not in i for i in client.v1.invoices.list().data)
    expanded = client.v1.invoices.retrieve(invoice_id, params={"expand": ["payments"]})
    assert expanded.payments.data[0].payment.payment_intent.startswith("pi_")
    listed = client.v1.invoices.list(params={"expand": ["data.payments"]})
    assert all(i.payments.data for i in listed.data)
    sub = client.v1.subscriptions.retrieve(sub_id, params={"expand": ["latest_invoice"]})
    assert "payments" not in sub.latest_invoice  # expanded, but its includable list was not


def test_charge_refunds_are_included_only_before_2022_11_15(
    versioned: Emulator, emu_session: Callable[..., Any], payloads: Payloads
) -> None:
    _member(versioned, emu_session)
    client = _client(versioned)
    charge = client.v1.charges.list().data[0]
    versioned.refund(charge.id, 300)
    versioned.deliver_pending(timeout=2)
    for url in (f"{SITE}/now", f"{SITE}/old"):
        (refunded,) = payloads.at(url, "charge.refunded")
        assert "refunds" not in refunded["data"]["object"]
        assert "refunds" not in refunded["data"].get("previous_attributes", {})
    (older,) = payloads.at(f"{SITE}/older", "charge.refunded")
    assert [r["amount"] for r in older["data"]["object"]["refunds"]["data"]] == [300]
    assert "refunds" not in client.v1.charges.retrieve(charge.id)
    expanded = client.v1.charges.retrieve(charge.id, params={"expand": ["refunds"]})
    assert [r.amount for r in expanded.refunds.data] == [300]


def test_expandable_fields_are_ids_unless_expanded(
    versioned: Emulator, emu_session: Callable[..., Any], payloads: Payloads
) -> None:
    # Every field the spec marks expandable (per the SDK generated from it) is an id, and
    # every includable list is absent, in every payload and every plain API answer.
    sub_id = _member(versioned, emu_session)
    gift = emu_session("payment")
    versioned.pay_checkout(gift.id, "4242424242424242", email="giver@example.com")
    versioned.renew(sub_id, fail=True)
    client = _client(versioned)
    # A membership charge (a guest's gift has no customer since customer_creation=if_required).
    charge = next(
        c for c in client.v1.charges.list().data if c.status == "succeeded" and c.customer
    )
    versioned.refund(charge.id, 100)
    versioned.dispute(charge.id)
    versioned.create_default_portal_configuration()
    client.v1.billing_portal.sessions.create(params={"customer": charge.customer})
    versioned.deliver_pending(timeout=2)
    assert len(payloads.at(f"{SITE}/now")) >= 14
    for url, event in payloads.received:
        if url != f"{SITE}/older":  # that version still includes charge.refunds, as it should
            assert unasked_fields(event["data"]["object"]) == [], (url, event["type"])
    for path in ("customers", "subscriptions", "invoices", "charges", "payment_intents"):
        body, _, _ = versioned.http_client.request(
            "get", f"https://api.stripe.com/v1/{path}", {"Authorization": "Bearer sk_test_x"}
        )
        for obj in json.loads(body)["data"]:
            assert unasked_fields(obj) == [], (path, obj["id"])
    for path in ("checkout/sessions", "refunds", "events"):
        body, _, _ = versioned.http_client.request(
            "get", f"https://api.stripe.com/v1/{path}", {"Authorization": "Bearer sk_test_x"}
        )
        for obj in json.loads(body)["data"]:
            obj = obj["data"]["object"] if path == "events" else obj
            assert unasked_fields(obj) == [], (path, obj["id"])
