"""What Stripe settled for our payments: gross, refunds, disputes, fees and net (pure queries).

Read from the balance transactions Stripe reported (membership.balance), in the currency
each settled in (the account's, whatever the payment's currency was), so the net here is
the money the account really keeps: net = the sum of the transactions' net.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select

from donations.extensions import db
from donations.membership.demo import DEMO_INVOICE
from donations.models import BalanceTransaction, Donation

REFUNDS = ("refund", "refund_failure")
DISPUTES = ("dispute", "dispute_reversal")


@dataclass(frozen=True)
class SettledTotal:
    """One settlement currency's money since a moment, in its minor units (signed)."""

    currency: str
    payments: int
    gross: int  # what the payments brought in
    refunds: int  # negative: refunded (a failed refund brings money back)
    disputes: int  # negative: withdrawn by disputes, less what won disputes reinstated
    fees: int  # Stripe's processing and dispute fees
    net: int  # the sum of the transactions' net: gross + refunds + disputes - fees


@dataclass(frozen=True)
class Settlement:
    """Settled totals per currency, and how many recent payments have no fee recorded yet."""

    totals: list[SettledTotal]
    awaiting_fee: int


def _sum_where(condition, column) -> object:
    return func.coalesce(func.sum(case((condition, column), else_=0)), 0)


def settled_since(since: datetime) -> Settlement:
    """Balance transactions of our payments created at or after `since` (two queries)."""
    bt = BalanceTransaction
    ours = exists().where(Donation.stripe_payment_intent_id == bt.stripe_payment_intent_id)
    category = bt.reporting_category
    rows = db.session.execute(
        select(
            bt.currency,
            _sum_where(category == "charge", 1),
            _sum_where(category == "charge", bt.amount),
            _sum_where(category.in_(REFUNDS), bt.amount),
            _sum_where(category.in_(DISPUTES), bt.amount),
            func.sum(bt.fee),
            func.sum(bt.net),
        )
        .where(bt.created >= since, ours)
        .group_by(bt.currency)
        .order_by(bt.currency)
    ).all()
    charged = exists().where(
        and_(
            bt.stripe_payment_intent_id == Donation.stripe_payment_intent_id,
            bt.reporting_category == "charge",
        )
    )
    # seed-demo's payments never had a Stripe charge: `stripe sync` could never clear them.
    real = or_(
        Donation.stripe_invoice_id.is_(None),
        ~Donation.stripe_invoice_id.startswith(DEMO_INVOICE, autoescape=True),
    )
    awaiting = db.session.scalar(
        select(func.count()).select_from(Donation).where(Donation.paid_at >= since, ~charged, real)
    )
    return Settlement(
        totals=[SettledTotal(c, *(int(v or 0) for v in values)) for c, *values in rows],
        awaiting_fee=int(awaiting or 0),
    )
