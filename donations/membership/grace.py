"""The end of a past_due membership's grace as time passes (design notes §2, §4).

A fact sets the grace when it is applied (transitions.apply_state), but a grace also runs
out with no fact at all: Stripe may leave a subscription past due for weeks. This job
rechecks every past_due membership against the clock and MEMBER_GRACE_DAYS, through the
same counted change as a fact, so the live counter always equals a recount. Run it daily
(`flask members expire-grace` from cron); `stripe sync` runs it too.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from donations.extensions import db
from donations.membership.locking import locked
from donations.membership.transitions import (
    counted_change,
    estimated_past_due_since,
    grace_window,
    lock_person,
)
from donations.models import Membership, SubscriptionStatus

log = logging.getLogger(__name__)


def recheck_grace(now: datetime) -> int:
    """Bring every past_due membership's grace up to date; return how many changed.

    Past-due memberships are few (Stripe retries for weeks, not years), so all are read:
    that also applies a changed MEMBER_GRACE_DAYS and fills cut-offs (and past_due_since)
    missing after the migrations that added them.
    """
    rows = db.session.execute(
        select(Membership.id, Membership.user_id).where(
            Membership.status == SubscriptionStatus.PAST_DUE
        )
    ).all()
    changed = 0
    for membership_id, user_id in rows:
        lock_person(user_id)
        membership = locked(Membership, Membership.id, membership_id)
        if membership is None or membership.status != SubscriptionStatus.PAST_DUE:
            continue  # a newer fact got there first
        since = membership.past_due_since or estimated_past_due_since(membership)
        ends, expired = grace_window(membership.status, since, now)
        if (membership.past_due_since, membership.grace_ends_at, membership.grace_expired) == (
            since,
            ends,
            expired,
        ):
            continue
        # The history is dated when the grace ran out, not when this job noticed.
        with counted_change(membership, ends if expired and ends else now):
            membership.past_due_since = since
            membership.grace_ends_at, membership.grace_expired = ends, expired
        log.info("grace of %s: ends %s, expired=%s", membership, ends, expired)
        changed += 1
    return changed
