"""Webhook delivery from the outbox: HTTP POSTs, retries with backoff, and two delivery modes.

Stripe delivers at least once, in no guaranteed order, several at the same moment, and retries
with backoff (stripe-behaviour.md "Delivery"; Stripe docs, "Receive Stripe events in your
webhook endpoint": event ordering, duplicate events). The emulator offers both ends:

- `ordered` (the default, for demos): one delivery at a time, in creation order.
- `chaos`: the due deliveries are shuffled, some are sent twice, and they go out in waves of
  concurrent requests (threads). The plan is drawn from the seed and the rows it covers, so a
  run with the same seed and the same events makes the same plan.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .events import sign
from .store import Store

log = logging.getLogger(__name__)

# (url, body, headers, timeout) -> HTTP status; raises OSError when the server is unreachable.
Transport = Callable[[str, bytes, dict[str, str], float], int]
MODES = ("ordered", "chaos")
# Chaos: the share of deliveries sent twice, the most sent at once, the most planned together.
DUPLICATE_RATE = 0.25
CONCURRENCY = 4
CHAOS_BATCH = 20


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


def chaos_plan(seqs: Sequence[int], seed: int, concurrency: int = CONCURRENCY) -> list[list[int]]:
    """Shuffle outbox rows, send some twice, and cut the sends into concurrent waves."""
    rng = random.Random(f"{seed}:{','.join(map(str, seqs))}")  # noqa: S311 - not for security
    sends = list(seqs)
    rng.shuffle(sends)
    for seq in list(sends):
        if rng.random() < DUPLICATE_RATE:
            # The copy goes anywhere after the original: in the same wave it arrives with it.
            sends.insert(rng.randint(sends.index(seq) + 1, len(sends)), seq)
    waves: list[list[int]] = []
    start = 0
    while start < len(sends):
        size = rng.randint(1, concurrency)
        waves.append(sends[start : start + size])
        start += size
    return waves


class Deliverer:
    """Delivers due outbox rows in the chosen mode, retrying with exponential backoff."""

    def __init__(
        self,
        store: Store,
        prepare: Prepare,
        *,
        transport: Transport | None = None,
        mode: str = "ordered",
        seed: int | None = None,
        retry_base_seconds: float = 0.5,
        retry_cap_seconds: float = 60.0,
        max_attempts: int = 8,
        timeout: float = 10.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"delivery mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.store = store
        self.prepare = prepare
        self.transport: Transport = transport or urllib_transport
        self.mode = mode
        self.seed = seed if seed is not None else secrets.randbelow(2**31)
        if mode == "chaos":
            # Logged so that a surprising run can be replayed with STRIPE_EMULATOR_SEED.
            log.info("stripe emulator: chaos delivery, seed %d", self.seed)
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
        batch = 1 if self.mode == "ordered" else CHAOS_BATCH
        delivered = 0
        while not self._stop.is_set():
            # The lease covers the whole batch: its sends may each take up to `timeout`.
            rows = self.store.claim_due(worker, lease=self.timeout * batch + 30, limit=batch)
            if not rows:
                break
            delivered += self._deliver(rows, worker)
        return delivered

    def _deliver(self, rows: list[dict[str, Any]], worker: str) -> int:
        prepared = {row["seq"]: self.prepare(row) for row in rows}
        seqs = [row["seq"] for row in rows]
        plan = [[s] for s in seqs] if self.mode == "ordered" else chaos_plan(seqs, self.seed)
        outcomes: dict[int, list[Outcome]] = {seq: [] for seq in seqs}
        for wave in plan:
            sends = [(seq, d) for seq in wave if isinstance(d := prepared[seq], Delivery)]
            if len(sends) == 1:
                outcomes[sends[0][0]].append(self._send(sends[0][1]))
            elif sends:
                with ThreadPoolExecutor(len(sends), thread_name_prefix="stripe-chaos") as pool:
                    results = list(pool.map(self._send, [d for _, d in sends]))
                for (seq, _), result in zip(sends, results, strict=True):
                    outcomes[seq].append(result)
        return sum(self._finish(row, worker, prepared[row["seq"]], outcomes) for row in rows)

    def send_now(self, delivery: Delivery) -> Outcome:
        """Send one delivery once, now, outside the outbox (a test delivery)."""
        return self._send(delivery)

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
