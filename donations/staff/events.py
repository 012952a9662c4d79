"""The webhook ledger for staff: filtered listing, one event's payload, replay of failures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from donations.core.inputs import choice_arg
from donations.extensions import db
from donations.models import EVENT_STATUSES, StripeEvent
from donations.pagination import paginate
from donations.payments.ledger import EventOutcome, replay

PER_PAGE = 50
VERSION_WINDOW_DAYS = 7


class ReplayRefused(ValueError):
    """The event cannot be replayed from here; the message says why."""


class UnknownEvent(ReplayRefused):
    """No stored event has this id."""


@dataclass(frozen=True)
class EventFilters:
    """Event type (exact) and ledger status; empty means any."""

    type: str = ""
    status: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> EventFilters:
        """Read filters from query arguments; an unknown status is a 400 (InvalidInput)."""
        return cls(
            type=args.get("type", "").strip()[:100],
            status=choice_arg(args, "status", EVENT_STATUSES),
        )

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for pagination links."""
        return {k: v for k, v in vars(self).items() if v}


def list_events(filters: EventFilters, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """One page of ledger events matching the filters (two indexed queries)."""
    conditions = []
    if filters.type:
        conditions.append(StripeEvent.type == filters.type)
    if filters.status:
        conditions.append(StripeEvent.status == filters.status)
    stmt = (
        select(StripeEvent)
        .where(*conditions)
        .order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
    )
    return paginate(stmt, page, per_page)


def get_event(stripe_event_id: str) -> StripeEvent | None:
    """One ledger row by Stripe's event id (None for an id no row can hold)."""
    if len(stripe_event_id) > 255:
        return None
    return db.session.scalar(
        select(StripeEvent).where(StripeEvent.stripe_event_id == stripe_event_id)
    )


def pretty_payload(event: StripeEvent) -> str:
    """The stored JSON, indented for reading (as stored if it is not valid JSON)."""
    try:
        return json.dumps(json.loads(event.payload), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return event.payload


def replay_failed(stripe_event_id: str, *, livemode: bool) -> EventOutcome:
    """Process a failed event again through the ledger; the caller commits."""
    event = get_event(stripe_event_id)
    if event is None:
        raise UnknownEvent(f"No stored event {stripe_event_id}.")
    if event.status != "failed":
        raise ReplayRefused(
            f"{stripe_event_id} is {event.status}; only failed events are replayed."
        )
    return replay(
        stripe_event_id, livemode=livemode, installation=current_app.config["INSTALLATION_TAG"]
    )


@dataclass(frozen=True)
class VersionDrift:
    """Events of the last days shaped in an API version other than the pinned one."""

    version: str
    events: int
    pinned: str
    days: int = VERSION_WINDOW_DAYS


def other_api_versions(now: datetime) -> list[VersionDrift]:
    """Recent events in another API version than ours, per version (one indexed query).

    An endpoint keeps the version it was created with, so these mean an old endpoint is
    still in use: `flask stripe setup` makes one on the pinned version.
    """
    pinned = current_app.config["STRIPE_API_VERSION"]
    rows = db.session.execute(
        select(StripeEvent.api_version, func.count())
        .where(
            StripeEvent.received_at >= now - timedelta(days=VERSION_WINDOW_DAYS),
            StripeEvent.api_version.is_not(None),
            StripeEvent.api_version != pinned,
        )
        .group_by(StripeEvent.api_version)
        .order_by(StripeEvent.api_version)
    ).all()
    return [VersionDrift(version, count, pinned) for version, count in rows]
