"""Our Stripe-derived records as one comparable value, and a reset that forgets them.

Tests that apply the same facts in different orders or in different payload layouts
compare these snapshots: the records must come out the same.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from donations.extensions import db
from donations.membership import totals
from donations.membership.progress import get_progress, move_counter
from donations.models import (
    CheckoutAttempt,
    Donation,
    FailedPayment,
    MemberChange,
    Membership,
    PaymentAdjustment,
    PendingDispute,
    RecurringTotal,
    Refund,
    StripeEvent,
    User,
)


def reset_records() -> None:
    """Forget everything Stripe told us; keep the accounts."""
    for model in (
        MemberChange,
        Membership,
        Donation,
        PaymentAdjustment,
        PendingDispute,
        Refund,
        FailedPayment,
        CheckoutAttempt,
        StripeEvent,
        RecurringTotal,
    ):
        db.session.execute(delete(model))
    db.session.execute(delete(User).where(User.password_hash.is_(None)))
    db.session.execute(update(User).values(stripe_customer_id=None))
    move_counter(to=0)  # through the counter's one writer, so the cached progress goes too
    db.session.commit()


def snapshot_records() -> dict:
    """Our records, keyed by Stripe ids and emails (row ids depend on arrival order)."""
    person = {u.id: u.email or u.stripe_customer_id for u in db.session.scalars(select(User))}
    return {
        "memberships": sorted(
            (
                m.stripe_subscription_id,
                person[m.user_id],
                m.status,
                m.interval,
                m.interval_count,
                m.amount,
                m.currency,
                m.cancel_at_period_end,
                m.current_period_end,
                m.ended_at,
                m.source_article,
            )
            for m in db.session.scalars(select(Membership))
        ),
        "donations": sorted(
            (
                d.stripe_invoice_id or "",
                d.stripe_payment_intent_id or "",
                d.kind,
                d.amount,
                d.fee_amount,
                d.currency,
                person.get(d.user_id),
                d.paid_at,
                d.email,
                d.stripe_checkout_session_id or "",
                d.stripe_subscription_id or "",
                d.source_article or "",
                d.net_amount,
                d.disputed,
            )
            for d in db.session.scalars(select(Donation))
        ),
        "adjustments": sorted(
            (
                a.stripe_payment_intent_id,
                a.amount_refunded,
                a.disputed,
                a.dispute_status or "",
                a.amount_disputed,
            )
            for a in db.session.scalars(select(PaymentAdjustment))
        ),
        "waiting_disputes": sorted(
            (w.stripe_dispute_id, w.stripe_charge_id, w.status)
            for w in db.session.scalars(select(PendingDispute))
        ),
        "refunds": sorted(
            (r.stripe_refund_id, r.stripe_payment_intent_id or "", r.status, r.amount)
            for r in db.session.scalars(select(Refund))
        ),
        "failed": sorted(
            (f.stripe_invoice_id, f.attempt_count)
            for f in db.session.scalars(select(FailedPayment))
        ),
        "attempts": sorted(
            (a.stripe_session_id, a.status, a.interval, a.amount, a.fee_amount)
            for a in db.session.scalars(select(CheckoutAttempt))
        ),
        "links": sorted(
            (u.email, u.stripe_customer_id)
            for u in db.session.scalars(select(User).where(User.email.is_not(None)))
        ),
        "supporters": db.session.scalar(select(func.count()).select_from(User)),
        "members": get_progress().members,
        "totals": totals.maintained_totals(),
        "history_sum": db.session.scalar(select(func.coalesce(func.sum(MemberChange.delta), 0))),
        "events": db.session.scalar(select(func.count()).select_from(StripeEvent)),
    }
