"""A renewal day's webhook storm, as Stripe sends it: signed, repeated, shuffled, 8 at a time.

Per member the six events a subscription Checkout sends our endpoint and a renewal's four;
a fifth of the members cancel; one-time gifts (tests/payments/storm_mix.py, the mix the
worker tests and bench/mixed_storm.py send too); 20 % of the deliveries are repeats; all
shuffled. The objects are Stripe's own example objects filled in (tests/payments/
stripe_events.World), so the same seed gives the same events, ids and all, in every run:
the records of two runs can be compared row for row. Each delivery is signed when it is
sent, with the rig's secret, and a delivery that does not get a 2xx is sent again after a
moment, as Stripe retries (on a compressed clock).
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.payments.storm_mix import gift_events, member_events
from tests.payments.stripe_events import World, signature_header

SENDERS = 8
RETRY_AFTER = 0.25  # seconds before a failed delivery is sent again


@dataclass(frozen=True)
class Storm:
    """The bodies to deliver, in sending order, and what they add up to."""

    bodies: list[str]
    events: int
    members_left: int


def make_storm(members: int, gifts: int, repeats: float = 0.2, seed: int = 18) -> Storm:
    """The storm's deliveries: every event once, 20 % again, shuffled."""
    rng = random.Random(seed)
    world = World()
    cancelling = set(rng.sample(range(members), members // 5))
    events: list[dict[str, Any]] = []
    for n in range(members):
        events += member_events(world, n, n in cancelling)
    for n in range(gifts):
        events += gift_events(world, n)
    bodies = [json.dumps(event) for event in events]
    bodies += rng.choices(bodies, k=round(len(bodies) * repeats))
    rng.shuffle(bodies)
    return Storm(bodies=bodies, events=len(events), members_left=members - len(cancelling))


@dataclass
class Sent:
    """How the sending went: answers by status, failed tries, and when the last one landed."""

    statuses: dict[int, int] = field(default_factory=dict)
    retries: int = 0
    started: float = 0.0
    last_delivery: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    progress: int = 0


class Senders:
    """SENDERS threads taking the next body, each sending it until it gets a 2xx."""

    def __init__(self, base_url: str, secret: str, bodies: Iterable[str]) -> None:
        self.host = urlsplit(base_url).hostname or "127.0.0.1"
        self.port = urlsplit(base_url).port or 80
        self.secret = secret
        self.queue = iter(list(bodies))
        self.lock = threading.Lock()
        self.sent = Sent()
        self.threads = [threading.Thread(target=self._send, daemon=True) for _ in range(SENDERS)]

    def start(self) -> Sent:
        """Start sending in the background; `sent.done` is set when every body got a 2xx."""
        self.sent.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        threading.Thread(target=self._finish, daemon=True).start()
        return self.sent

    def _finish(self) -> None:
        for thread in self.threads:
            thread.join()
        self.sent.done.set()

    def _post(self, body: str) -> int:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(
                "POST",
                "/stripe/webhook",
                body=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": signature_header(body, self.secret),
                    "Connection": "close",
                },
            )
            response = connection.getresponse()
            response.read()
            return response.status
        except OSError:
            return 0  # refused or cut: as Stripe, try again later
        finally:
            connection.close()

    def _send(self) -> None:
        while True:
            with self.lock:
                body = next(self.queue, None)
            if body is None:
                return
            while True:
                status = self._post(body)
                with self.lock:
                    self.sent.statuses[status] = self.sent.statuses.get(status, 0) + 1
                    if 200 <= status < 300:
                        self.sent.last_delivery = time.monotonic()
                        self.sent.progress += 1
                        break
                    self.sent.retries += 1
                time.sleep(RETRY_AFTER)
