"""`stripe check`'s warning: other money on an account this site takes for its own.

With STRIPE_ACCOUNT_SHARED=0 every untagged object counts as ours (payments.ownership);
recent ones that this site did not make mean the account sells other things too.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from donations.core.words import count_of
from donations.extensions import db
from donations.facts.metadata import site_of
from donations.models import Adoption
from donations.payments.ownership import keys_of

CHECK_DAYS = 30
NOUNS = {"checkout_sessions": "Checkout session", "subscriptions": "subscription"}
CHECK_LIMIT = 100  # objects of each kind read; enough to see a shop or a Payment Link


def check_warnings(
    gateway: Any, *, installation: str, shared: bool, now: datetime | None = None
) -> list[str]:
    """Warnings for `stripe check`: recent Checkout sessions and subscriptions without our tag.

    On a dedicated account (shared False) such objects are counted as this site's money.
    Those staff adopted are ours by decision, not a sign of other sales: not counted.
    """
    if shared:
        return []
    since = (now or datetime.now(UTC)) - timedelta(days=CHECK_DAYS)
    recent = {"created": {"gte": int(since.timestamp())}}
    found = {}
    for kind, params in (
        ("checkout_sessions", recent),
        ("subscriptions", {**recent, "status": "all"}),
    ):
        objects = itertools.islice(gateway.iter_objects(kind, **params), CHECK_LIMIT)
        found[kind] = _not_adopted([o for o in objects if site_of(o) is None])
    if not any(found.values()):
        return []
    named = ", ".join(
        f"{count_of(len(ids), NOUNS[kind])} (e.g. {ids[0]})" for kind, ids in found.items() if ids
    )
    return [
        f"the account has {named} of the last {CHECK_DAYS} days that this site did not make "
        "(Payment Links, the Dashboard, another app?); with STRIPE_ACCOUNT_SHARED=0 they count "
        "as members and gifts here. If the account sells other things, set "
        "STRIPE_ACCOUNT_SHARED=1."
    ]


def _not_adopted(objects: list[Any]) -> list[str]:
    """The ids of these objects that no adoption names (a subscription, or a payment intent)."""
    keys = {o.id: keys_of(o).all() for o in objects}
    wanted = set().union(*keys.values())
    adopted = set(
        db.session.scalars(
            select(Adoption.stripe_object_id).where(Adoption.stripe_object_id.in_(wanted))
        )
        if wanted
        else ()
    )
    return [i for i, ids in keys.items() if not ids & adopted]
