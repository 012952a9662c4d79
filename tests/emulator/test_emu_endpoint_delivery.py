"""Events go only to the endpoints that subscribe: one delivery each, signed with its secret."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
import stripe
from flask import Flask

from stripe_emulator import Emulator, get_emulator

from .conftest import API_VERSION, SITE, Inbox, register_endpoint


class Recorder:
    """A transport that keeps every request: (url, parsed body, headers)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        with self.lock:
            self.sent.append((url, body, headers))
        return 200

    def urls(self) -> list[str]:
        """Where each request went, in order."""
        return [url for url, _, _ in self.sent]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def account(emu_factory: Callable[..., Emulator], recorder: Recorder) -> Emulator:
    """An emulator without endpoints or a fixed secret: every endpoint has its own secret."""
    return emu_factory(endpoint_url=None, signing_secret=None, transport=recorder)


def _customer(emu: Emulator) -> str:
    client = stripe.StripeClient("sk_test_emulator", http_client=emu.http_client)
    return client.v1.customers.create(params={"email": "a@example.com"}).id


def test_each_event_goes_to_every_endpoint_that_subscribes_signed_with_its_secret(
    account: Emulator, recorder: Recorder
) -> None:
    everything = register_endpoint(account, f"{SITE}/all", ("*",))
    customers = register_endpoint(account, f"{SITE}/customers", ("customer.created",))
    register_endpoint(account, f"{SITE}/invoices", ("invoice.paid",))
    off = register_endpoint(account, f"{SITE}/off", ("customer.created",))
    stripe.StripeClient("sk_test_x", http_client=account.http_client).v1.webhook_endpoints.update(
        off.id, params={"disabled": True}
    )
    _customer(account)
    assert account.deliver_pending(timeout=2) == 2
    assert sorted(recorder.urls()) == [f"{SITE}/all", f"{SITE}/customers"]
    (event,) = account.events()
    rows = account.deliveries(event["id"])
    assert sorted(r["endpoint_id"] for r in rows) == sorted([everything.id, customers.id])
    secrets = {f"{SITE}/all": everything.secret, f"{SITE}/customers": customers.secret}
    for url, body, headers in recorder.sent:
        other = secrets[f"{SITE}/all" if url.endswith("customers") else f"{SITE}/customers"]
        assert stripe.Webhook.construct_event(body, headers["Stripe-Signature"], secrets[url])
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], str(other))
    assert event["pending_webhooks"] == 2


def test_an_event_nobody_subscribes_to_is_stored_but_delivered_nowhere(
    account: Emulator, recorder: Recorder
) -> None:
    register_endpoint(account, f"{SITE}/invoices", ("invoice.paid",))
    customer_id = _customer(account)
    assert account.deliver_pending(timeout=1) == 0
    assert recorder.sent == []
    assert account.deliveries() == []
    client = stripe.StripeClient("sk_test_emulator", http_client=account.http_client)
    (listed,) = client.v1.events.list().data
    assert (listed.type, listed.data.object.id) == ("customer.created", customer_id)
    assert listed.pending_webhooks == 0


def test_without_an_endpoint_nothing_is_delivered_at_all(
    account: Emulator, recorder: Recorder
) -> None:
    # No implicit "deliver everything to the host": the host must register its endpoint.
    _customer(account)
    assert account.deliver_pending(timeout=1) == 0
    assert recorder.sent == [] and account.deliveries() == []


def test_endpoint_without_api_version_gets_the_account_default(
    account: Emulator, recorder: Recorder
) -> None:
    register_endpoint(account, f"{SITE}/default", ("*",))
    register_endpoint(account, f"{SITE}/basil", ("*",), api_version="2025-03-31.basil")
    _customer(account)
    account.deliver_pending(timeout=2)
    versions = {url: json.loads(body)["api_version"] for url, body, _ in recorder.sent}
    assert versions == {f"{SITE}/default": API_VERSION, f"{SITE}/basil": "2025-03-31.basil"}


def test_deleting_an_endpoint_gives_up_its_pending_deliveries(
    account: Emulator, recorder: Recorder
) -> None:
    gone = register_endpoint(account, f"{SITE}/gone", ("*",))
    kept = register_endpoint(account, f"{SITE}/kept", ("*",))
    _customer(account)
    stripe.StripeClient("sk_test_x", http_client=account.http_client).v1.webhook_endpoints.delete(
        gone.id
    )
    assert account.deliver_pending(timeout=2) == 1
    assert recorder.urls() == [f"{SITE}/kept"]
    rows = {r["endpoint_id"]: r for r in account.deliveries()}
    assert (rows[gone.id]["status"], rows[gone.id]["last_error"]) == ("failed", "endpoint deleted")
    assert rows[kept.id]["status"] == "delivered"


def test_resend_goes_to_the_subscribers_or_to_one_endpoint(
    account: Emulator, recorder: Recorder
) -> None:
    first = register_endpoint(account, f"{SITE}/one", ("customer.created",))
    register_endpoint(account, f"{SITE}/two", ("*",))
    register_endpoint(account, f"{SITE}/three", ("invoice.paid",))
    _customer(account)
    account.deliver_pending(timeout=2)
    recorder.sent.clear()
    (event,) = account.events()
    account.resend(event["id"])
    account.deliver_pending(timeout=2)
    assert sorted(recorder.urls()) == [f"{SITE}/one", f"{SITE}/two"]
    recorder.sent.clear()
    account.resend(event["id"], endpoint_id=first.id)
    account.deliver_pending(timeout=2)
    assert recorder.urls() == [f"{SITE}/one"]


def test_drop_deliveries_records_one_dropped_row_per_endpoint(
    account: Emulator, recorder: Recorder
) -> None:
    register_endpoint(account, f"{SITE}/one", ("*",))
    register_endpoint(account, f"{SITE}/two", ("*",))
    account.set_drop_deliveries(True)
    _customer(account)
    assert account.deliver_pending(timeout=1) == 0
    assert [r["status"] for r in account.deliveries()] == ["dropped", "dropped"]
    (event,) = account.events()
    account.resend(event["id"])  # a resend is delivered even while dropping
    assert account.deliver_pending(timeout=2) == 2


def test_cli_deliver_and_resend_work_per_endpoint(emu_app: Flask, emu_inbox: Inbox) -> None:
    emu = get_emulator(emu_app)
    register_endpoint(emu, f"{SITE}/second", ("customer.created",))
    _customer(emu)
    (event,) = emu.events()
    runner = emu_app.test_cli_runner()
    delivered = runner.invoke(args=["emulator", "deliver"])
    assert "Webhooks: 2 delivered" in delivered.output, delivered.output
    resent = runner.invoke(args=["emulator", "resend", event["id"]])
    assert resent.exit_code == 0, resent.output
    assert "Webhooks: 2 delivered" in resent.output
    assert sorted(url for url, _, _ in emu_inbox.received) == sorted(
        [f"{SITE}/second", f"{SITE}/stripe/webhook"] * 2
    )


def test_pending_deliveries_resume_after_a_restart(
    emu_factory: Callable[..., Emulator], emu_inbox: Inbox
) -> None:
    def down(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        raise ConnectionRefusedError("the app is restarting")

    before = emu_factory(transport=down)
    _customer(before)
    assert before.deliverer.deliver_due() == 0  # one attempt
    assert before.deliveries()[0]["status"] == "pending"  # failed once, waiting to retry
    _customer(before)  # queued, never attempted
    before.close()
    after = emu_factory(background=True)  # same state file, transport back up
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and emu_inbox.types() != ["customer.created"] * 2:
        time.sleep(0.02)
    assert emu_inbox.types() == ["customer.created"] * 2
    assert [r["status"] for r in after.deliveries()] == ["delivered", "delivered"]


def test_pending_deliveries_resume_on_demand_after_a_restart(
    emu_factory: Callable[..., Emulator], emu_inbox: Inbox
) -> None:
    before = emu_factory(transport=lambda *args: 503)
    _customer(before)
    before.deliverer.deliver_due()
    before.close()
    after = emu_factory()
    assert after.deliver_pending(timeout=2) == 1
    assert emu_inbox.types() == ["customer.created"]
