"""Webhook delivery over real HTTP: retries with backoff, background thread, one claim per row."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stripe_emulator import Emulator
from stripe_emulator.events import sign

from .conftest import SECRET


class FlakyReceiver:
    """A real HTTP server on 127.0.0.1 that answers 500 first, then 200, and verifies."""

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.calls: list[str] = []  # event ids, one per request
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        event = stripe.Webhook.construct_event(
            body, request.headers.get("Stripe-Signature"), SECRET
        )
        with self.lock:
            self.calls.append(event.id)
            status = 500 if len(self.calls) <= self.failures else 200
        return Response("no" if status == 500 else "ok", status=status)(environ, start_response)


@pytest.fixture
def emu_server() -> Iterator[tuple[str, FlakyReceiver]]:
    receiver = FlakyReceiver()
    server = make_server("127.0.0.1", 0, receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/stripe/webhook", receiver
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_http_delivery_retries_after_500(
    emu_factory: Callable[..., Emulator], emu_server: tuple[str, FlakyReceiver]
) -> None:
    url, receiver = emu_server
    # A real server on this machine: the host app, whose own origin the emulator reaches.
    emu = emu_factory(endpoint_url=url, transport=None, host_origin=url)
    client = stripe.StripeClient("sk_test_emulator", http_client=emu.http_client)
    customer = client.v1.customers.create(params={"email": "h@example.com"})
    assert emu.deliver_pending(timeout=5) == 1
    (row,) = emu.deliveries()
    assert row["status"] == "delivered"
    assert row["attempts"] == 2
    assert row["last_status"] == 200
    assert receiver.calls == [row["event_id"], row["event_id"]]
    assert emu.events()[0]["data"]["object"]["id"] == customer.id


def test_background_thread_delivers(
    emu_factory: Callable[..., Emulator], emu_server: tuple[str, FlakyReceiver]
) -> None:
    url, receiver = emu_server
    emu = emu_factory(endpoint_url=url, transport=None, background=True, host_origin=url)
    emu.http_client.request(
        "post",
        "https://api.stripe.com/v1/customers",
        {"Authorization": "Bearer sk_test_x"},
        "email=bg%40example.com",
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and emu.deliveries()[0]["status"] != "delivered":
        time.sleep(0.02)
    assert emu.deliveries()[0]["status"] == "delivered"
    assert len(receiver.calls) == 2


def test_gives_up_after_max_attempts(emu_factory: Callable[..., Emulator]) -> None:
    def down(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        raise ConnectionRefusedError("nobody listening")

    emu = emu_factory(transport=down, max_attempts=3)
    emu.set_drop_deliveries(False)
    emu.http_client.request(
        "post", "https://api.stripe.com/v1/customers", {"Authorization": "Bearer sk_test_x"}, ""
    )
    assert emu.deliver_pending(timeout=2) == 0
    (row,) = emu.deliveries()
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert "ConnectionRefusedError" in row["last_error"]


def test_two_workers_never_deliver_the_same_row_twice(
    emu_factory: Callable[..., Emulator],
) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def slow(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        time.sleep(0.002)
        with lock:
            seen.append(headers["Stripe-Signature"] + body.decode()[:60])
        return 200

    first = emu_factory(transport=slow)
    second = emu_factory(transport=slow)  # same file: stands in for another process
    client = stripe.StripeClient("sk_test_emulator", http_client=first.http_client)
    for i in range(30):
        client.v1.customers.create(params={"email": f"w{i}@example.com"})
    workers = [
        threading.Thread(target=e.deliver_pending, kwargs={"timeout": 5}) for e in (first, second)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rows = first.deliveries()
    assert len(rows) == 30
    assert all(r["status"] == "delivered" and r["attempts"] == 1 for r in rows)
    assert len(seen) == 30


def test_signature_format_matches_stripe() -> None:
    header = sign(b'{"id": "evt_1"}', "whsec_abc", timestamp=1700000000)
    assert header.startswith("t=1700000000,v1=")
    stripe.WebhookSignature.verify_header('{"id": "evt_1"}', header, "whsec_abc", tolerance=None)


def test_backoff_doubles_between_attempts(emu_factory: Callable[..., Emulator]) -> None:
    def down(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        return 503

    emu = emu_factory(transport=down, retry_base_seconds=0.2, retry_cap_seconds=10)
    emu.http_client.request(
        "post", "https://api.stripe.com/v1/customers", {"Authorization": "Bearer sk_test_x"}, ""
    )
    start = time.time()
    assert emu.deliverer.deliver_due() == 0
    first = emu.deliveries()[0]
    assert (first["attempts"], first["last_error"]) == (1, "HTTP 503")
    assert first["next_attempt_at"] - start == pytest.approx(0.2, abs=0.1)
    assert emu.deliverer.deliver_due() == 0  # not due yet: no second attempt
    assert emu.deliveries()[0]["attempts"] == 1
    time.sleep(max(0.0, first["next_attempt_at"] - time.time()) + 0.01)
    second_start = time.time()
    emu.deliverer.deliver_due()
    second = emu.deliveries()[0]
    assert second["attempts"] == 2
    assert second["next_attempt_at"] - second_start == pytest.approx(0.4, abs=0.1)


def _race(emulators: list[Emulator], key: str, threads: int = 12) -> list[str]:
    """Send the same idempotent create from many threads at once; return the ids answered."""
    barrier = threading.Barrier(threads)
    ids: list[str] = []

    def create(emu: Emulator) -> None:
        client = stripe.StripeClient("sk_test_emulator", http_client=emu.http_client)
        barrier.wait()
        customer = client.v1.customers.create(
            params={"email": "same@example.com"}, options={"idempotency_key": key}
        )
        ids.append(customer.id)

    workers = [
        threading.Thread(target=create, args=(emulators[i % len(emulators)],))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return ids


def test_concurrent_idempotent_requests_run_once(emu_factory: Callable[..., Emulator]) -> None:
    emulators = [emu_factory(), emu_factory()]  # two handles on one file, like two processes
    for round_no in range(3):
        ids = _race(emulators, f"key-{round_no}")
        assert len(ids) == 12
        assert len(set(ids)) == 1
    assert len(emulators[0].list_objects("customer")) == 3
