"""Webhook endpoints (`/v1/webhook_endpoints`): where events go, in which version, signed how.

As on Stripe, an event reaches only the enabled endpoints whose `enabled_events` name its type
(or `*`), in the endpoint's own `api_version`, which is fixed when the endpoint is created
(API reference, "Webhook Endpoints"; stripe-behaviour.md "Delivery"). The signing secret is
shown once, in the create response. One exception, the analogue of `stripe listen` (whose
secret is fixed per machine): an Emulator built with a `signing_secret` gives it to every
endpoint, so a host app's configured STRIPE_WEBHOOK_SECRET verifies every delivery.

Stripe refuses endpoint URLs it cannot reach: `localhost` and loopback, private, link-local
and other non-public addresses (dj-stripe/dj-stripe#1891: "Stripe doesn't allow to create
webhook endpoints with 127.0.0.1"; the Stripe CLI's `stripe listen --forward-to` is Stripe's
way to reach a laptop, docs.stripe.com/webhooks), and plain `http` in live mode ("use HTTPS
in live mode", docs.stripe.com/webhooks). So does the emulator, with one exception: the host
app's own origin (`Emulator(host_origin=...)`, set only in pure emulator mode), to which the
emulator delivers as `stripe listen --forward-to` would.
"""

from __future__ import annotations

import ipaddress
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


def _url(emu: Emulator, value: Any) -> str:
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc or len(str(value)) > 5000:
        raise invalid("url", "Invalid URL: must be an http(s) URL.", "url_invalid")
    if emu.host_origin and _origin(str(value)) == _origin(emu.host_origin):
        return str(value)  # the host app itself, as `stripe listen --forward-to` reaches it
    if not _public(parts.hostname or ""):
        raise invalid(
            "url",
            "Invalid URL: URL must be publicly accessible. To receive events on this machine, "
            "use the Stripe CLI: stripe listen --forward-to <your local URL>.",
            "url_invalid",
        )
    if emu.livemode and parts.scheme != "https":
        raise invalid("url", "Invalid URL: live mode endpoints must use HTTPS.", "url_invalid")
    return str(value)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _public(host: str) -> bool:
    """Whether a URL's host could be reached from Stripe: no localhost, no private address."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost") or not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: Stripe resolves it; the emulator, offline, takes it as public
    return address.is_global


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
    url = _url(emu, params["url"])
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
        "livemode": emu.livemode,
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
        endpoint["url"] = _url(emu, params["url"])
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
