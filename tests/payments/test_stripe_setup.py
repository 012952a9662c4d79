"""`flask stripe setup` / `check` against the emulator, which behaves like a Stripe account.

The app sets its own endpoint and portal configuration up at start in emulator mode, exactly as
`stripe setup` does; events reach it only through that endpoint, and only those it subscribes to.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import stripe
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from donations import create_app
from donations.extensions import db as _db
from donations.facts.payload import STRIPE_API_VERSION
from donations.models import Donation, Membership, StripeEvent
from donations.payments.account import WEBHOOK_EVENTS
from donations.payments.gateway import Gateway
from stripe_emulator import Emulator
from tests.conftest import base_config
from tests.factories import login, make_membership, make_user

OTHER_URL = "https://donate.example.org/stripe/webhook"
NO_DEFAULT = "No configuration provided and your test mode default configuration has not been"


def _sdk(emulator: Emulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client)


def _our_endpoint(emulator: Emulator) -> dict[str, Any]:
    (endpoint,) = [
        e
        for e in emulator.list_objects("webhook_endpoint")
        if e["url"] == "http://localhost/stripe/webhook"
    ]
    return endpoint


def _member(emulator: Emulator) -> str:
    """Pay a monthly membership through Checkout; return the subscription id."""
    checkout = _sdk(emulator).v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 800,
                        "product_data": {"name": "Membership"},
                        "recurring": {"interval": "month"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "http://localhost/support/thanks?session_id={CHECKOUT_SESSION_ID}",
            "customer_email": "member@example.org",
        }
    )
    emulator.pay_checkout(checkout.id, "4242424242424242")
    return str(emulator.get(checkout.id)["subscription"])  # type: ignore[index]


def test_the_app_registers_its_endpoint_and_portal_configuration_at_start(
    app: Flask, emulator: Emulator
) -> None:
    endpoint = _our_endpoint(emulator)
    assert sorted(endpoint["enabled_events"]) == sorted(WEBHOOK_EVENTS)
    assert endpoint["api_version"] == STRIPE_API_VERSION
    assert endpoint["status"] == "enabled"
    configs = emulator.list_objects("billing_portal.configuration")
    assert [c["metadata"] for c in configs] == [{"created_by": "donations"}]
    assert configs[0]["default_return_url"] == "http://localhost/account"
    assert configs[0]["is_default"] is False


@pytest.mark.parametrize(("command", "registers"), [("create-staff", False), ("run", True)])
def test_only_the_server_registers_an_endpoint_when_the_app_starts(make_app, command, registers):
    # `make run PORT=5123` passes its SITE_URL; a later `flask create-staff` reads .env's.
    made = []

    @click.command(command)
    def cli() -> None:
        made.append(make_app(SITE_URL="http://127.0.0.1:5999"))

    assert CliRunner().invoke(cli).exit_code == 0
    endpoints = made[0].extensions["payments_gateway"].webhook_endpoints()
    urls = [e.url for e in endpoints]
    assert ("http://127.0.0.1:5999/stripe/webhook" in urls) is registers


def test_stripe_secret_prints_the_signing_secret_in_test_mode_only(app: Flask, runner) -> None:
    result = runner.invoke(args=["stripe", "secret"])
    assert result.exit_code == 0
    assert result.stdout.strip() == app.config["STRIPE_WEBHOOK_SECRET"].strip()
    assert result.stdout.startswith("whsec_")
    app.config["STRIPE_TEST_MODE"] = False  # as with an sk_live_ key
    refused = runner.invoke(args=["stripe", "secret"])
    assert refused.exit_code != 0 and "whsec_" not in refused.output


def test_setup_then_check_pass_and_a_second_setup_changes_nothing(
    runner, db, emulator: Emulator
) -> None:
    first = runner.invoke(args=["stripe", "setup", "--webhook-url", OTHER_URL])
    assert first.exit_code == 0, first.output
    assert "created webhook endpoint we_" in first.output
    assert "Signing secret whsec_" in first.output
    checked = runner.invoke(args=["stripe", "check", "--webhook-url", OTHER_URL])
    assert checked.exit_code == 0, checked.output
    assert "Stripe is ready" in checked.output
    # The check sent a signed delivery and found it in the ledger, counted as nothing.
    (stored,) = db.session.scalars(select(StripeEvent)).all()
    assert (stored.type, stored.status) == ("donations.webhook_check", "ignored")
    assert f"a signed test delivery ({stored.stripe_event_id}) reached" in checked.output
    second = runner.invoke(args=["stripe", "setup", "--webhook-url", OTHER_URL])
    assert second.exit_code == 0, second.output
    assert "is up to date" in second.output
    assert "Nothing to change: the account is already set up." in second.output
    # The endpoint made at start passes too: a fresh start needs no manual step.
    assert runner.invoke(args=["stripe", "check"]).exit_code == 0


def test_an_endpoint_missing_an_event_fails_check_and_does_not_receive_it(
    app: Flask, runner, db, emulator: Emulator
) -> None:
    endpoint = _our_endpoint(emulator)
    narrower = [e for e in WEBHOOK_EVENTS if e != "invoice.paid"]
    _sdk(emulator).v1.webhook_endpoints.update(endpoint["id"], params={"enabled_events": narrower})
    checked = runner.invoke(args=["stripe", "check"])
    assert checked.exit_code == 1
    assert f"endpoint {endpoint['id']} is missing events: invoice.paid" in checked.output
    _member(emulator)
    emulator.deliver_pending()
    (paid,) = emulator.events("invoice.paid")
    assert emulator.deliveries(paid["id"]) == []
    ledger = db.session.scalars(select(StripeEvent.type)).all()
    assert "invoice.paid" not in ledger
    assert "customer.subscription.created" in ledger
    fixed = runner.invoke(args=["stripe", "setup", "--webhook-url", endpoint["url"]])
    assert "added invoice.paid" in fixed.output, fixed.output
    assert runner.invoke(args=["stripe", "check"]).exit_code == 0


def test_a_portal_session_needs_a_configuration_but_the_apps_billing_link_works(
    client, db, emulator: Emulator
) -> None:
    sdk = _sdk(emulator)
    customer = sdk.v1.customers.create(params={"email": "member@example.org"})
    with pytest.raises(stripe.InvalidRequestError, match=NO_DEFAULT):
        sdk.v1.billing_portal.sessions.create(params={"customer": customer.id})
    user = make_user(email="member@example.org", stripe_customer_id=customer.id)
    make_membership(user)
    login(client, user)
    response = client.post("/account/billing")
    assert response.status_code == 303
    assert "/_emulator/portal/bps_" in response.headers["Location"]


def test_the_portal_configuration_is_looked_up_once_and_again_when_it_is_gone(
    app: Flask, client, db, emulator: Emulator, runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk = _sdk(emulator)
    customer = sdk.v1.customers.create(params={"email": "member@example.org"})
    user = make_user(email="member@example.org", stripe_customer_id=customer.id)
    make_membership(user)
    login(client, user)
    calls = _count_requests(monkeypatch)
    assert client.post("/account/billing").status_code == 303
    assert client.post("/account/billing").status_code == 303
    assert calls.count("GET /v1/billing_portal/configurations") == 1
    (first,) = emulator.list_objects("billing_portal.configuration")
    sdk.v1.billing_portal.configurations.update(first["id"], params={"active": False})
    assert runner.invoke(args=["stripe", "setup", "--webhook-url", OTHER_URL]).exit_code == 0
    assert client.post("/account/billing").status_code == 303  # refused once, looked up again
    latest = emulator.list_objects("billing_portal.session")[0]
    assert latest["configuration"] not in (None, first["id"])


def _count_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record "METHOD /path" of every request the emulator answers from now on."""
    import stripe_emulator.http_client as seam

    calls: list[str] = []
    real = seam.handle

    def counting(emu: Emulator, method: str, url: str, headers: Any, post_data: Any) -> Any:
        calls.append(f"{method.upper()} {urlsplit(url).path}")
        return real(emu, method, url, headers, post_data)

    monkeypatch.setattr(seam, "handle", counting)
    return calls


def test_a_restart_with_nothing_to_change_costs_one_list_call_each(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app()
    calls = _count_requests(monkeypatch)
    make_app()  # the same emulator state file: endpoint and configuration are in place
    assert sorted(calls) == [
        "GET /v1/billing_portal/configurations",
        "GET /v1/webhook_endpoints",
    ]


def test_an_old_version_endpoint_gets_the_old_layout_and_the_app_reads_it(
    app: Flask, db, emulator: Emulator
) -> None:
    bodies: list[dict[str, Any]] = []
    inner = emulator.deliverer.transport

    def keep(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        bodies.append(json.loads(body))
        return inner(url, body, headers, timeout)

    emulator.deliverer.transport = keep
    sdk = _sdk(emulator)
    sdk.v1.webhook_endpoints.update(_our_endpoint(emulator)["id"], params={"disabled": True})
    sdk.v1.webhook_endpoints.create(
        params={
            "url": "http://localhost/stripe/webhook",
            "enabled_events": list(WEBHOOK_EVENTS),
            "api_version": "2024-06-20",
        }
    )
    sub_id = _member(emulator)
    emulator.deliver_pending()
    assert {b["api_version"] for b in bodies} == {"2024-06-20"}
    (invoice,) = [b["data"]["object"] for b in bodies if b["type"] == "invoice.paid"]
    assert invoice["subscription"] == sub_id and "parent" not in invoice
    assert invoice["payment_intent"].startswith("pi_") and "payments" not in invoice
    subs = [b["data"]["object"] for b in bodies if b["type"].startswith("customer.sub")]
    assert {s["id"] for s in subs} == {sub_id}  # created (incomplete), then updated (active)
    sub = subs[-1]
    assert all(s["current_period_end"] for s in subs)
    assert all("current_period_end" not in s["items"]["data"][0] for s in subs)
    # Design §8: the app reads the older layout too.
    membership = db.session.scalar(select(Membership))
    assert (membership.stripe_subscription_id, membership.status) == (sub_id, "active")
    assert membership.current_period_end.timestamp() == sub["current_period_end"]
    donation = db.session.scalar(select(Donation))
    assert donation.stripe_payment_intent_id == invoice["payment_intent"]
    assert donation.stripe_subscription_id == sub_id


def test_invoice_payments_is_in_no_payload_the_app_receives(
    app: Flask, db, emulator: Emulator
) -> None:
    bodies: list[dict[str, Any]] = []
    inner = emulator.deliverer.transport

    def keep(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        bodies.append(json.loads(body))
        return inner(url, body, headers, timeout)

    emulator.deliverer.transport = keep
    sub_id = _member(emulator)
    emulator.renew(sub_id, fail=True)
    emulator.renew(sub_id)
    emulator.deliver_pending()
    invoices = [b["data"]["object"] for b in bodies if b["data"]["object"]["object"] == "invoice"]
    assert len(invoices) == 3
    assert all("payments" not in invoice for invoice in invoices)
    donations = db.session.scalars(select(Donation)).all()
    # The PaymentIntent still reaches us, from invoice_payment.paid (design §8).
    assert len(donations) == 2 and all(d.stripe_payment_intent_id for d in donations)


def test_workers_starting_together_register_one_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Several web workers start at once on one emulator state file (gunicorn -w 4).
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    listed = Gateway.webhook_endpoints

    def slow_list(self: Gateway) -> Any:
        found = listed(self)
        time.sleep(0.2)  # between "none there yet" and "create one": where a race would be
        return found

    monkeypatch.setattr(Gateway, "webhook_endpoints", slow_list)
    apps: list[Flask] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            apps.append(create_app(base_config(tmp_path)))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    workers = [threading.Thread(target=start) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    try:
        assert errors == [] and len(apps) == 4
        emulator = apps[0].extensions["stripe_emulator"]
        assert len(emulator.list_objects("webhook_endpoint")) == 1
        assert len(emulator.list_objects("billing_portal.configuration")) == 1
    finally:
        for started in apps:
            started.extensions["stripe_emulator"].close()
            with started.app_context():
                _db.engine.dispose()


def test_check_names_the_full_setup_command_and_site_url_for_a_missing_local_endpoint(
    runner, emulator: Emulator
) -> None:
    # The server registered http://localhost/stripe/webhook; SITE_URL names another port.
    url = "http://localhost:5999/stripe/webhook"
    checked = runner.invoke(args=["stripe", "check", "--webhook-url", url])
    assert checked.exit_code == 1
    assert (
        f"missing: no webhook endpoint for {url}: run "
        f"`flask --app wsgi stripe setup --webhook-url {url}`; endpoints exist for "
        "http://localhost/stripe/webhook: if the server runs there, set SITE_URL"
    ) in checked.output
    public = runner.invoke(args=["stripe", "check", "--webhook-url", OTHER_URL])
    assert f"`flask --app wsgi stripe setup --webhook-url {OTHER_URL}`" in public.output
    assert "SITE_URL" not in public.output  # a public URL: no port mix-up to suspect


def test_setup_in_emulator_mode_asks_for_no_webhook_secret(app: Flask, runner) -> None:
    made = runner.invoke(args=["stripe", "setup", "--webhook-url", OTHER_URL])
    assert made.exit_code == 0, made.output
    assert "set STRIPE_WEBHOOK_SECRET" not in made.output
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    assert f"Signing secret {secret}: the emulator signs with" in made.output
    assert "nothing to set" in made.output
