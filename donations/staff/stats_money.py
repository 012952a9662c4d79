"""Money on the dashboard: recurring revenue, gifts and membership payments (pure queries)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from donations.extensions import db
from donations.membership.totals import maintained_totals
from donations.models import MEMBERSHIP_INTERVALS, Donation, PaymentAdjustment

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class CurrencyRevenue:
    """Monthly recurring revenue in one currency, in minor units."""

    currency: str
    monthly: int
    memberships: int


@dataclass(frozen=True)
class IntervalCount:
    """Member memberships billed at one interval."""

    interval: str
    memberships: int


@dataclass(frozen=True)
class Revenue:
    """MRR per currency and member memberships per interval."""

    mrr: list[CurrencyRevenue]
    by_interval: list[IntervalCount]


@dataclass(frozen=True)
class GiftTotal:
    """Payments in one currency: how many, gross, refunded, held by disputes, net."""

    currency: str
    count: int
    gross: int
    refunded: int
    disputed: int = 0

    @property
    def net(self) -> int:
        """Gross minus refunds and what disputes hold back (minor units)."""
        return self.gross - self.refunded - self.disputed


def monthly_amount(amount: int, interval: str, interval_count: int = 1) -> int:
    """A membership's amount per month, rounded half up to minor units.

    A period is interval_count months or years: a quarterly plan (month x 3) bills a third
    of its amount per month, a yearly one a twelfth.
    """
    months = interval_count * (MONTHS_PER_YEAR if interval == "year" else 1)
    return (amount + months // 2) // months


def recurring_revenue() -> Revenue:
    """MRR per currency over memberships in member statuses (one small query).

    Each membership counts what it brings in per period: every item, net of discounts in
    effect, nothing while in a trial or with collection paused (facts.recurring).

    It reads the recurring totals kept at write time (membership.totals): one row per
    currency, billing period and amount, so each amount is rounded to a monthly figure
    exactly as one membership's would be, and the cost does not grow with the number of members.
    """
    per_currency: dict[str, list[int]] = {}
    per_interval: dict[str, int] = {}
    for (currency, interval, interval_count, amount), count in maintained_totals().items():
        entry = per_currency.setdefault(currency, [0, 0])
        entry[0] += monthly_amount(amount, interval, interval_count) * count
        entry[1] += count if amount > 0 else 0  # a trial or paused collection brings nothing
        per_interval[interval] = per_interval.get(interval, 0) + count
    return Revenue(
        mrr=[CurrencyRevenue(c, m, n) for c, (m, n) in sorted(per_currency.items())],
        by_interval=[IntervalCount(i, per_interval.get(i, 0)) for i in MEMBERSHIP_INTERVALS],
    )


def gifts_since(since: datetime) -> list[GiftTotal]:
    """One-time gifts paid at or after `since`, per currency, net of refunds and disputes."""
    return _payments_since(since, Donation.kind == "gift")


def membership_payments_since(since: datetime) -> list[GiftTotal]:
    """First and renewal payments of memberships since `since`, per currency, net."""
    return _payments_since(since, Donation.kind != "gift")


def _payments_since(since: datetime, kind) -> list[GiftTotal]:
    """Payments of one kind since `since`, per currency, with refunds and disputes (one query)."""
    refunded = func.coalesce(PaymentAdjustment.amount_refunded, 0)
    disputed = func.coalesce(PaymentAdjustment.amount_disputed, 0)
    rows = db.session.execute(
        select(
            Donation.currency,
            func.count(),
            func.sum(Donation.amount),
            func.sum(refunded),
            func.sum(disputed),
        )
        .outerjoin(
            PaymentAdjustment,
            PaymentAdjustment.stripe_payment_intent_id == Donation.stripe_payment_intent_id,
        )
        .where(kind, Donation.paid_at >= since)
        .group_by(Donation.currency)
        .order_by(Donation.currency)
    ).all()
    return [GiftTotal(c, n, int(g or 0), int(r or 0), int(d or 0)) for c, n, g, r, d in rows]
