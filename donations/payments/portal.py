"""Which Billing Portal configuration portal sessions use (Stripe refuses them without one).

Shared by the gateway (every portal session names its configuration) and `stripe setup` /
`stripe check` (account.py), so both always agree on the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# How `setup` recognises the portal configuration it made (Stripe's default one, saved in
# the Dashboard, is also accepted by `check`).
PORTAL_MARKER = {"created_by": "donations"}


@dataclass(frozen=True)
class PortalConfiguration:
    """A Billing Portal configuration: Stripe refuses portal sessions without one."""

    id: str
    active: bool
    is_default: bool
    metadata: dict[str, str] = field(default_factory=dict)


def portal_configuration(configs: list[PortalConfiguration]) -> PortalConfiguration | None:
    """The configuration portal sessions should use: ours first, else the account default."""
    active = [c for c in configs if c.active]
    ours = [c for c in active if c.metadata.get("created_by") == PORTAL_MARKER["created_by"]]
    return (ours or [c for c in active if c.is_default] or [None])[0]
