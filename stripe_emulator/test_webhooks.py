"""Test deliveries: one signed event sent to one endpoint now, to prove it receives and verifies.

The analogue of the Dashboard's "Send test webhook" (and of `stripe trigger`, which makes real
objects to the same end): the event is signed with the endpoint's own secret and rendered in
its API version, but it is not an event of the account (GET /v1/events does not list it), and
it goes out once, synchronously, so the caller learns the answer at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .delivery import Delivery
from .errors import EmulatorError
from .events import build_event, payload_of
from .webhook_endpoints import signing_secret

if TYPE_CHECKING:
    from .core import Emulator


@dataclass(frozen=True)
class TestDelivery:
    """What came of a test delivery: the event id, the HTTP status (None: unreachable), and
    what went wrong when it was not 2xx."""

    __test__ = False  # not a pytest class, despite the name

    event_id: str
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the endpoint answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


def send(emu: Emulator, endpoint_id: str, event_type: str, obj: dict[str, Any]) -> TestDelivery:
    """Sign an event about `obj` for one endpoint and POST it now; return what it answered."""
    with emu.store.transaction(write=False) as tx:
        endpoint = tx.get(endpoint_id, "webhook_endpoint")
    if endpoint is None:
        raise EmulatorError(f"No such webhook endpoint: {endpoint_id}")
    if endpoint["status"] != "enabled":
        raise EmulatorError(f"Webhook endpoint {endpoint_id} is disabled.")
    event = build_event(
        event_type,
        obj,
        api_version=endpoint["api_version"] or emu.api_version,
        livemode=bool(endpoint["livemode"]),
    )
    body = payload_of(event)
    status, error = emu.deliverer.send_now(
        Delivery(endpoint["url"], body, signing_secret(emu, endpoint))
    )
    return TestDelivery(event["id"], status, error)
