"""Webhook delivery from the outbox: HTTP POSTs, one at a time in creation order, retried
with exponential backoff when the answer is not 2xx."""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .events import sign
from .store import Store

log = logging.getLogger(__name__)

# (url, body, headers, timeout) -> HTTP status; raises OSError when the server is unreachable.
Transport = Callable[[str, bytes, dict[str, str], float], int]


@dataclass(frozen=True)
class Delivery:
    """One outbox row made ready to send: where, what, signed with which secret."""

    url: str
    body: bytes
    secret: str


# Turns a claimed outbox row into a Delivery, or a reason it cannot be delivered.
Prepare = Callable[[dict[str, Any]], Delivery | str]
Outcome = tuple[int | None, str | None]  # (HTTP status, error or None when 2xx)


def urllib_transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST with the standard library; return the HTTP status (errors included)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        # The URL is a registered webhook endpoint, set through the API by the host app.
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
        prepare: Prepare,
        *,
        transport: Transport | None = None,
        retry_base_seconds: float = 0.5,
        retry_cap_seconds: float = 60.0,
        max_attempts: int = 8,
        timeout: float = 10.0,
    ) -> None:
        self.store = store
        self.prepare = prepare
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
            rows = self.store.claim_due(worker, lease=self.timeout + 30)
            if not rows:
                break
            (row,) = rows
            prepared = self.prepare(row)
            sent = [self._send(prepared)] if isinstance(prepared, Delivery) else []
            delivered += self._finish(row, worker, prepared, {row["seq"]: sent})
        return delivered

    def _send(self, delivery: Delivery) -> Outcome:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            # Each attempt is signed afresh, so a late retry still passes the 300 s tolerance.
            "Stripe-Signature": sign(delivery.body, delivery.secret),
        }
        try:
            status = self.transport(delivery.url, delivery.body, headers, self.timeout)
        except Exception as exc:  # any transport failure counts as a failed attempt
            return None, f"{type(exc).__name__}: {exc}"
        return status, None if 200 <= status < 300 else f"HTTP {status}"

    def _finish(
        self,
        row: dict[str, Any],
        worker: str,
        prepared: Delivery | str,
        outcomes: dict[int, list[Outcome]],
    ) -> int:
        seq = row["seq"]
        if isinstance(prepared, str):
            self.store.finish_attempt(
                seq, worker, status="failed", http_status=None, error=prepared
            )
            return 0
        sent = outcomes[seq]
        ok = next((status for status, error in sent if error is None), None)
        if ok is not None:
            self.store.finish_attempt(seq, worker, status="delivered", http_status=ok, error=None)
            return 1
        status, error = sent[-1]
        if row["attempts"] >= self.max_attempts:
            log.warning("giving up on %s after %d attempts", row["event_id"], row["attempts"])
            self.store.finish_attempt(seq, worker, status="failed", http_status=status, error=error)
            return 0
        delay = min(self.retry_base * 2 ** (row["attempts"] - 1), self.retry_cap)
        self.store.finish_attempt(
            seq,
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
