"""Webhook endpoints (`/v1/webhook_endpoints`): where events go, in which version, signed how.

As on Stripe, an event reaches only the enabled endpoints whose `enabled_events` name its type
(or `*`), in the endpoint's own `api_version`, which is fixed when the endpoint is created
(API reference, "Webhook Endpoints"; stripe-behaviour.md "Delivery"). The signing secret is
shown once, in the create response. One exception, the analogue of `stripe listen` (whose
secret is fixed per machine): an Emulator built with a `signing_secret` gives it to every
endpoint, so a host app's configured STRIPE_WEBHOOK_SECRET verifies every delivery.
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import objects as o
from .errors import invalid, missing
from .forms import as_bool, as_list, merge_metadata, metadata, reject_unknown
from .listing import paginate
from .routing import fetch
from .spec_enums import API_VERSIONS, WEBHOOK_EVENT_TYPES
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

SECRET_KEY = o.PRIVATE + "secret"
CREATE_FIELDS = {"url", "enabled_events", "api_version", "description", "metadata", "connect"}
# No `api_version` here: the spec's update operation has none, Stripe never changes it.
UPDATE_FIELDS = {"url", "enabled_events", "description", "metadata", "disabled"}
_ALPHABET = string.ascii_letters + string.digits


def subscribers(tx: Tx, event_type: str) -> list[dict[str, Any]]:
    """The enabled endpoints that receive events of this type, oldest first."""
    found = [
        endpoint
        for endpoint in tx.list("webhook_endpoint")
        if endpoint["status"] == "enabled"
        and ("*" in endpoint["enabled_events"] or event_type in endpoint["enabled_events"])
    ]
    return found[::-1]


def signing_secret(emu: Emulator, endpoint: dict[str, Any]) -> str:
    """The secret deliveries to this endpoint are signed with."""
    return emu.signing_secret or endpoint[SECRET_KEY]


def _url(value: Any) -> str:
    # Stripe refuses URLs that are not publicly reachable; the emulator delivers to the host
    # app on this machine (localhost included), as `stripe listen --forward-to` does.
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc or len(str(value)) > 5000:
        raise invalid("url", "Invalid URL: must be an http(s) URL.", "url_invalid")
    return str(value)


def _events(value: Any) -> list[str]:
    events = [str(e) for e in as_list(value, "enabled_events")]
    if not events:
        raise missing("enabled_events")
    for i, event_type in enumerate(events):
        if event_type not in WEBHOOK_EVENT_TYPES:
            # The spec's enum for `enabled_events[]`; Stripe names the bad entry by index.
            raise invalid(
                f"enabled_events[{i}]",
                f"Invalid enabled_events[{i}]: must be one of "
                + ", ".join(sorted(WEBHOOK_EVENT_TYPES)),
                "parameter_invalid_string",
            )
    return list(dict.fromkeys(events))


def create(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/webhook_endpoints: the only response that shows the signing secret."""
    reject_unknown(params, CREATE_FIELDS)
    if not params.get("url"):
        raise missing("url")
    url = _url(params["url"])
    if "enabled_events" not in params:
        raise missing("enabled_events")
    events = _events(params["enabled_events"])
    version = params.get("api_version") or None
    if version is not None and version not in API_VERSIONS:
        raise invalid(
            "api_version", f"Invalid api_version: must be one of {', '.join(API_VERSIONS)}"
        )
    if params.get("connect") not in (None, "") and as_bool(params["connect"], "connect"):
        raise invalid("connect", "The Stripe emulator has no connected accounts.")
    endpoint = {
        "id": o.new_id("we_"),
        "object": "webhook_endpoint",
        "api_version": version,
        "application": None,
        "created": o.now(),
        "description": params.get("description") or None,
        "enabled_events": events,
        "livemode": False,
        "metadata": metadata(params.get("metadata")),
        "status": "enabled",
        "url": url,
        SECRET_KEY: emu.signing_secret
        or "whsec_" + "".join(secrets.choice(_ALPHABET) for _ in range(32)),
    }
    tx.put(endpoint)
    # The object plus its secret, in this one response only (API reference: "Only returned
    # at creation").
    return {**endpoint, "secret": endpoint[SECRET_KEY]}


def retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], we_id: str) -> dict[str, Any]:
    """GET /v1/webhook_endpoints/{id}."""
    return fetch(tx, "webhook_endpoint", we_id)


def update(emu: Emulator, tx: Tx, params: dict[str, Any], we_id: str) -> dict[str, Any]:
    """POST /v1/webhook_endpoints/{id}: url, events, description, metadata, disabled."""
    reject_unknown(params, UPDATE_FIELDS)
    endpoint = fetch(tx, "webhook_endpoint", we_id)
    if "url" in params:
        endpoint["url"] = _url(params["url"])
    if "enabled_events" in params:
        endpoint["enabled_events"] = _events(params["enabled_events"])
    if "description" in params:
        endpoint["description"] = params["description"] or None
    if "metadata" in params:
        endpoint["metadata"] = merge_metadata(endpoint["metadata"], params["metadata"])
    if params.get("disabled") not in (None, ""):
        disabled = as_bool(params["disabled"], "disabled")
        endpoint["status"] = "disabled" if disabled else "enabled"
    return tx.put(endpoint)


def delete(emu: Emulator, tx: Tx, params: dict[str, Any], we_id: str) -> dict[str, Any]:
    """DELETE /v1/webhook_endpoints/{id}: its queued deliveries are dropped with it."""
    endpoint = fetch(tx, "webhook_endpoint", we_id)
    tx.delete(endpoint["id"])
    tx.cancel_deliveries(endpoint["id"], "endpoint deleted")
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


def list_endpoints(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """GET /v1/webhook_endpoints, newest first."""
    reject_unknown(params, {"limit", "starting_after", "ending_before"})
    return paginate(tx.list("webhook_endpoint"), params, "/v1/webhook_endpoints")
