"""The member rule written out from the design notes (not the code's), as a test oracle.

The app's own recount (membership.progress.recount_members) uses the code's rule; these
helpers restate the design's, so a test comparing the two catches a rule that drifted.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from donations.extensions import db
from donations.membership import totals
from donations.membership.progress import get_progress
from donations.models import Membership, utcnow

# Design notes §2, copied: a member has a membership in one of these statuses.
MEMBER_STATUSES_BY_THE_DESIGN = ("active", "trialing", "past_due")
# Design notes §2 and §4: past_due counts until MEMBER_GRACE_DAYS (21 by default) after the
# end of its last paid period, even if Stripe leaves the subscription past due. Stripe opens
# a period before it charges for it, so a past_due subscription's current period is the unpaid
# one: the paid one ended a period before Stripe's period end (the World's periods are 30 days).
GRACE = timedelta(days=21)
PERIOD = timedelta(days=30)


def _members_by_the_design() -> list[Membership]:
    """Memberships that make a member by the design's rule, written out here (not the code's).

    A status in MEMBER_STATUSES_BY_THE_DESIGN; a past_due one only until GRACE after its
    last paid period ended: a PERIOD before the (unpaid) current period's end, or the fact
    when Stripe named no period.
    """
    now = utcnow()
    return [
        m
        for m in db.session.scalars(
            select(Membership).where(Membership.status.in_(MEMBER_STATUSES_BY_THE_DESIGN))
        )
        if m.status != "past_due"
        or ((m.current_period_end - PERIOD) if m.current_period_end else m.fact_at) + GRACE > now
    ]


def members_by_the_design() -> int:
    """Members counted from the memberships by the design's rule, not the code's."""
    return len({m.user_id for m in _members_by_the_design()})


def totals_by_the_design() -> dict[tuple[str, str, int, int], int]:
    """Member memberships per (currency, interval, count, amount), by the design's rule: a
    trial brings in nothing (issue 19), so it counts at 0."""
    return dict(
        Counter(
            (m.currency, m.interval, m.interval_count, 0 if m.status == "trialing" else m.amount)
            for m in _members_by_the_design()
        )
    )


def assert_counted_by_the_design() -> None:
    """The maintained member count and revenue totals equal the design's recount."""
    assert get_progress().members == members_by_the_design()
    assert totals.maintained_totals() == totals_by_the_design()
