"""The Stripe account's set-up in our words: webhook endpoints, Billing Portal configurations,
and which configuration portal sessions use.

Shared by the gateway (every portal session names its configuration) and `stripe setup` /
`stripe check` (account.py), so both always agree on the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# How `setup` recognises the portal configuration it made (Stripe's default one, saved in
# the Dashboard, is also accepted by `check`).
PORTAL_MARKER = {"created_by": "donations"}


@dataclass(frozen=True)
class WebhookEndpoint:
    """A webhook endpoint of the account; `secret` is known only right after creation."""

    id: str
    url: str
    enabled_events: tuple[str, ...]
    api_version: str | None
    status: str
    secret: str | None = None

    @classmethod
    def from_sdk(cls, obj: Any) -> WebhookEndpoint:
        """Read the SDK's WebhookEndpoint."""
        return cls(
            id=obj.id,
            url=obj.url,
            enabled_events=tuple(obj.enabled_events or ()),
            api_version=obj.api_version,
            status=obj.status,
            secret=getattr(obj, "secret", None),
        )


@dataclass(frozen=True)
class PortalConfiguration:
    """A Billing Portal configuration: Stripe refuses portal sessions without one."""

    id: str
    active: bool
    is_default: bool
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_sdk(cls, obj: Any) -> PortalConfiguration:
        """Read the SDK's billing_portal.Configuration."""
        return cls(
            id=obj.id,
            active=bool(obj.active),
            is_default=bool(obj.is_default),
            metadata=obj.metadata.to_dict() if obj.metadata else {},
        )


def portal_configuration(configs: list[PortalConfiguration]) -> PortalConfiguration | None:
    """The configuration portal sessions should use: ours first, else the account default."""
    active = [c for c in configs if c.active]
    ours = [c for c in active if c.metadata.get("created_by") == PORTAL_MARKER["created_by"]]
    return (ours or [c for c in active if c.is_default] or [None])[0]
