"""A subscription's state as one typed object, from Stripe's payload to our row and the view.

The fact (facts.SubscriptionFact), the state a membership is moved to
(membership.transitions.MembershipState) and what its member sees
(membership.services.MembershipView) are this object with their own extras, and the row is
read and written through it: a field added here travels the whole way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from donations.facts import payload, recurring
from donations.facts.payload import ts

# Field metadata: part of the footprint that orders facts of one second (the footprint is
# stored, so these fields keep their order) ...
_FOOTPRINT = {"footprint": True}
# ... or not kept in the membership's row.
_NOT_STORED = {"stored": False}


@dataclass(frozen=True, kw_only=True)
class SubscriptionState:
    """What a subscription is at one moment: its status, billing and period."""

    status: str = field(metadata=_FOOTPRINT)
    interval: str | None = field(metadata=_FOOTPRINT)
    interval_count: int = field(default=1, metadata=_FOOTPRINT)  # quarterly: month times 3
    amount: int = field(metadata=_FOOTPRINT)
    currency: str = field(metadata=_FOOTPRINT)
    cancel_at_period_end: bool = field(default=False, metadata=_FOOTPRINT)
    current_period_end: datetime | None = field(default=None, metadata=_FOOTPRINT)
    ended_at: datetime | None = field(default=None, metadata=_FOOTPRINT)
    started_at: datetime | None = None
    # What it brings in per period (facts.recurring); None: a discount we can't read, and
    # what the row had stands (write_to).
    recurring_amount: int | None = None
    # Stripe opens a period before charging for it: a past_due subscription's current period
    # is the unpaid one, and its start is when the last paid period ended (the row keeps that
    # as past_due_since, not this).
    current_period_start: datetime | None = field(default=None, metadata=_NOT_STORED)

    def state(self) -> dict[str, Any]:
        """This object's subscription fields by name (for building one of the extended types)."""
        return {f.name: getattr(self, f.name) for f in fields(SubscriptionState)}

    def write_to(self, row: Any) -> None:
        """Write the stored fields into a membership row."""
        for name, value in stored(self).items():
            if name == "recurring_amount" and value is None:
                continue
            setattr(row, name, value)


def from_payload(d: dict[str, Any]) -> dict[str, Any]:
    """A subscription object's state fields, in the current layout or an older one."""
    billing = payload.billing(d)
    return {
        "status": d["status"],
        "interval": billing.interval,
        "interval_count": billing.interval_count,
        "amount": billing.amount,
        "currency": billing.currency,
        "cancel_at_period_end": bool(d.get("cancel_at_period_end")),
        "current_period_end": payload.period_end(d),
        "ended_at": ts(d.get("ended_at")),
        "started_at": ts(d.get("start_date")),
        "recurring_amount": recurring.recurring_amount(d),
        "current_period_start": payload.period_start(d),
    }


def stored(record: Any) -> dict[str, Any]:
    """The fields a membership row keeps, read from a row or from a state."""
    return {
        f.name: getattr(record, f.name)
        for f in fields(SubscriptionState)
        if f.metadata.get("stored", True)
    }


def footprint_fields() -> list[str]:
    """The fields whose values, in this order, make a state's footprint."""
    return [f.name for f in fields(SubscriptionState) if f.metadata.get("footprint")]
