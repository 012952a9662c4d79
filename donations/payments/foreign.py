"""Foreign objects for staff (STRIPE_ACCOUNT_SHARED=1): the list, and adopting one.

Adopting records who made which object ours and when, then applies the events held for it,
oldest first, through the ledger: each takes effect once (it is `processed` from then on),
and the handlers' upserts keep a replay of any of them from counting it twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, select

from donations.extensions import db
from donations.membership.locking import insert_if_absent, locked
from donations.models import Adoption, ForeignObject, User
from donations.pagination import paginate
from donations.payments.ledger import release

PER_PAGE = 50
RECENT_ADOPTIONS = 10


class NotForeign(LookupError):
    """No foreign object has this id (never seen, or adopted already)."""


@dataclass(frozen=True)
class Adopted:
    """What adopting did: the object, and how many held events now count."""

    stripe_id: str
    kind: str
    events_applied: int


def list_foreign(page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """One page of foreign subscriptions and payments, newest first."""
    stmt = select(ForeignObject).order_by(ForeignObject.created.desc(), ForeignObject.id.desc())
    return paginate(stmt, page, per_page)


def get_foreign(stripe_id: str) -> ForeignObject | None:
    """One foreign object by its Stripe id (None for an id no row can hold)."""
    if len(stripe_id) > 255:
        return None
    return db.session.scalar(select(ForeignObject).where(ForeignObject.stripe_id == stripe_id))


def recent_adoptions(limit: int = RECENT_ADOPTIONS) -> list[Adoption]:
    """The latest adoptions, newest first: the record of who made what ours."""
    return list(
        db.session.scalars(
            select(Adoption).order_by(Adoption.adopted_at.desc(), Adoption.id.desc()).limit(limit)
        )
    )


def adopt(stripe_id: str, by: User, *, livemode: bool, installation: str) -> Adopted:
    """Make a foreign subscription or payment ours and apply its held events; caller commits."""
    row = (
        locked(ForeignObject, ForeignObject.stripe_id, stripe_id) if len(stripe_id) <= 255 else None
    )
    if row is None:
        raise NotForeign(f"{stripe_id} is not a foreign object (adopted already?)")
    kind = row.kind
    insert_if_absent(
        Adoption,
        "stripe_object_id",
        {
            "stripe_object_id": stripe_id,
            "kind": kind,
            "adopted_by_id": by.id,
            "adopted_by_email": by.email or "",
        },
    )
    db.session.execute(delete(ForeignObject).where(ForeignObject.id == row.id))
    applied = release({stripe_id}, livemode, installation)
    adoption = locked(Adoption, Adoption.stripe_object_id, stripe_id)
    assert adoption is not None
    adoption.events_applied += applied
    db.session.flush()
    return Adopted(stripe_id=stripe_id, kind=kind, events_applied=applied)
