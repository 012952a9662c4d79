"""The mails that keep members: a failed payment, and a cancellation (issue 21, point 4).

Both are outbox rows written in the transaction of the change they are about, keyed by their
cause (the failed invoice; the subscription's period), so however often or in whatever order
Stripe's events arrive, a member gets each at most once per membership and period.
A failed payment's mail waits until its membership is past_due: the invoice may arrive before
or after the subscription's update, so both the invoice (invoices.apply_invoice_failed) and
every counted change (transitions.counted_changes, one by one and in batches) ask here.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from donations.core import outbox
from donations.extensions import db
from donations.mail import compose
from donations.models import Donation, FailedPayment, Membership, SubscriptionStatus, User
from donations.money import format_money

PAYMENT_FAILED_SUBJECT = "Your membership payment didn't go through"
CANCEL_SUBJECT = "Your membership is cancelled"
ENDED_SUBJECT = "Your membership has ended"


def notice_changes(memberships: Iterable[Membership]) -> None:
    """Queue the mails the new state of these (just changed) memberships calls for."""
    for membership in memberships:
        status = SubscriptionStatus(membership.status)
        if status == SubscriptionStatus.PAST_DUE:
            _failed_payments(membership)
        if status == SubscriptionStatus.CANCELED or (
            membership.cancel_at_period_end and not status.is_terminal
        ):
            _cancellation(membership)


def notice_owed(user: User) -> None:
    """Queue what this person's memberships call for, now that we have their address.

    Stripe's events come in any order, and the worker's batches apply subscription events
    before `checkout.session.completed`: a membership may have failed or ended before the
    address it should be told at reached us. The keys keep this from sending anything twice.
    """
    if user.contact_email:
        notice_changes(db.session.scalars(select(Membership).where(Membership.user_id == user.id)))


def notice_failed_invoice(row: FailedPayment) -> None:
    """Queue the failed-payment mail for this invoice, if its membership is past_due."""
    membership = db.session.scalar(
        select(Membership).where(Membership.stripe_subscription_id == row.stripe_subscription_id)
    )
    if membership is not None and membership.status == SubscriptionStatus.PAST_DUE:
        _failed_payments(membership, [row])


def _failed_payments(membership: Membership, rows: list[FailedPayment] | None = None) -> None:
    """One mail per failed invoice of the membership that no payment has settled since."""
    if rows is None:
        rows = list(
            db.session.scalars(
                select(FailedPayment).where(
                    FailedPayment.stripe_subscription_id == membership.stripe_subscription_id
                )
            )
        )
    for row in rows:
        # A failed invoice paid since (a retry, or the first payment of an incomplete
        # subscription) has its payment recorded: no mail for it.
        if db.session.scalar(
            select(Donation.id).where(Donation.stripe_invoice_id == row.stripe_invoice_id)
        ):
            continue
        _send(
            membership,
            f"payment-failed:{membership.stripe_subscription_id}:{row.stripe_invoice_id}",
            "membership_payment_failed.txt",
            PAYMENT_FAILED_SUBJECT,
            amount=format_money(row.amount, row.currency),
            grace_ends=membership.grace_ends_at,
            grace_expired=membership.grace_expired,
        )


def _cancellation(membership: Membership) -> None:
    """The confirmation of a cancellation, or of the end when none was sent before it."""
    period_end = membership.current_period_end
    key = f"cancelled:{membership.stripe_subscription_id}:"
    key += str(int(period_end.timestamp())) if period_end else "none"
    ended = membership.status == SubscriptionStatus.CANCELED
    _send(
        membership,
        key,
        "membership_ended.txt" if ended else "membership_cancelled.txt",
        ENDED_SUBJECT if ended else CANCEL_SUBJECT,
        amount=format_money(membership.amount, membership.currency),
        ends=membership.ended_at if ended else period_end,
    )


def _send(membership: Membership, key: str, template: str, subject: str, **context: object) -> None:
    user = db.session.get(User, membership.user_id)
    to = user.contact_email if user is not None else None
    if not to:
        return  # a supporter Stripe gave us no address for
    site = current_app.config["SITE_NAME"]
    message = compose(
        template,
        to,
        f"{subject} ({site})",
        site_name=site,
        link=current_app.config["SITE_URL"].rstrip("/") + "/account",
        interval=membership.interval,
        **context,
    )
    outbox.enqueue(key, message)
