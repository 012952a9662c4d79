"""Stripe events: building, signing, queueing in the outbox, and delivery with retries."""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from .objects import new_id, now, public
from .store import Store, Tx

log = logging.getLogger(__name__)

# (url, body, headers, timeout) -> HTTP status; raises OSError when the server is unreachable.
Transport = Callable[[str, bytes, dict[str, str], float], int]

# The API request being handled, so events can name it in `request` as Stripe does.
CURRENT_REQUEST: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "stripe_emulator_request", default=None
)

DROP_SETTING = "drop_deliveries"


def build_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    api_version: str,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a Stripe `event` carrying a snapshot of `obj`."""
    request = CURRENT_REQUEST.get()
    data: dict[str, Any] = {"object": public(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = public(previous_attributes)
    return {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": api_version,
        "created": now(),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {
            "id": request[0] if request else None,
            "idempotency_key": request[1] if request else None,
        },
        "type": event_type,
    }


def emit(
    tx: Tx,
    event_type: str,
    obj: dict[str, Any],
    *,
    api_version: str,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store an event and queue it for delivery in the same transaction as the change."""
    event = build_event(
        event_type, obj, api_version=api_version, previous_attributes=previous_attributes
    )
    tx.put(event)
    dropped = tx.setting(DROP_SETTING) == "1"
    tx.enqueue(event["id"], status="dropped" if dropped else "pending")
    return event


def payload_of(event: dict[str, Any]) -> bytes:
    """Serialise an event as Stripe sends it (pretty-printed JSON)."""
    return json.dumps(event, indent=2).encode()


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return a `Stripe-Signature` header: `t=<unix>,v1=<hmac-sha256 of "t.payload">`."""
    ts = int(time.time()) if timestamp is None else timestamp
    signed = f"{ts}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def urllib_transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST with the standard library; return the HTTP status (errors included)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        # The URL is the app's own webhook endpoint, from configuration, not user input.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code)


class Deliverer:
    """Delivers due outbox rows in creation order, retrying with exponential backoff."""

    def __init__(
        self,
        store: Store,
        *,
        url: str,
        secret: str,
        transport: Transport | None = None,
        retry_base_seconds: float = 0.5,
        retry_cap_seconds: float = 60.0,
        max_attempts: int = 8,
        timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.url = url
        self.secret = secret
        self.transport: Transport = transport or urllib_transport
        self.retry_base = retry_base_seconds
        self.retry_cap = retry_cap_seconds
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()

    def deliver_due(self) -> int:
        """Deliver every row due now; return how many were delivered (2xx)."""
        worker = f"{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
        delivered = 0
        while not self._stop.is_set():
            row = self.store.claim_due(worker, lease=self.timeout + 30)
            if row is None:
                break
            delivered += self._attempt(row, worker)
        return delivered

    def _attempt(self, row: dict[str, Any], worker: str) -> int:
        with self.store.transaction(write=False) as tx:
            event = tx.get(row["event_id"], "event")
        if event is None:
            self.store.finish_attempt(
                row["seq"], worker, status="failed", http_status=None, error="event missing"
            )
            return 0
        body = payload_of(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            # Each attempt is signed afresh, so a late retry still passes the 300 s tolerance.
            "Stripe-Signature": sign(body, self.secret),
        }
        status: int | None = None
        try:
            status = self.transport(self.url, body, headers, self.timeout)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as exc:  # any transport failure counts as a failed attempt
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self.store.finish_attempt(
                row["seq"], worker, status="delivered", http_status=status, error=None
            )
            return 1
        if row["attempts"] >= self.max_attempts:
            log.warning("giving up on %s after %d attempts", row["event_id"], row["attempts"])
            self.store.finish_attempt(
                row["seq"], worker, status="failed", http_status=status, error=error
            )
            return 0
        delay = min(self.retry_base * 2 ** (row["attempts"] - 1), self.retry_cap)
        self.store.finish_attempt(
            row["seq"],
            worker,
            status="pending",
            http_status=status,
            error=error,
            next_at=time.time() + delay,
        )
        return 0

    def deliver_pending(self, timeout: float = 10.0) -> int:
        """Deliver until nothing is pending (waiting out backoff) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        delivered = 0
        while True:
            delivered += self.deliver_due()
            due = self.store.next_due()
            remaining = deadline - time.monotonic()
            if due is None or remaining <= 0:
                return delivered
            # Another worker may hold a row (its lease is far off): poll briefly instead.
            time.sleep(min(max(due - time.time(), 0.005), 0.05, remaining))

    def start(self) -> None:
        """Start the background delivery thread of this process, if not running."""
        with self._thread_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="stripe-emulator-webhooks", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        """Tell the background thread that new rows may be due."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread (used by tests and at shutdown)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = 2.0
            try:
                self.deliver_due()
                due = self.store.next_due()
                if due is not None:
                    # Poll at most every 2 s: another process may queue rows we are not told of.
                    wait = min(max(due - time.time(), 0.01), 2.0)
            except Exception:  # the thread must survive a locked or vanished database
                log.exception("webhook delivery loop failed")
            self._wake.wait(wait)
            self._wake.clear()
