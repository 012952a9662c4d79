"""Applying Stripe facts to our records: memberships, checkout attempts and gifts.

Every function here (and in membership.invoices and membership.adjustments) gives the same
records whatever order the facts arrive in, and has one effect however often a fact
repeats: upserts on Stripe ids, merges that commute (min of payment times, newest status
wins), and the one transition function for a membership's status.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from donations.core import outbox
from donations.extensions import db
from donations.facts.facts import CheckoutFact, SubscriptionFact
from donations.facts.metadata import ONCE, parse_user_id
from donations.membership.donations import record_gift
from donations.membership.locking import get_or_create_locked, locked
from donations.membership.notices import notice_owed
from donations.membership.supporters import supporter_for
from donations.membership.transitions import MembershipState, apply_state, lock_person
from donations.models import (
    MEMBERSHIP_INTERVALS,
    SUBSCRIPTION_STATUSES,
    CheckoutAttempt,
    Donation,
    Membership,
    NoEffect,
    SubscriptionStatus,
)

log = logging.getLogger(__name__)

# The pay-first claim mail's template in the outbox (accounts.claims renders it).
CLAIM_MAIL = "claim"
CLAIM_SUBJECT = "Welcome: your membership receipt and account link"


def apply_subscription(fact: SubscriptionFact, at: datetime) -> Membership | None:
    """Create or update the membership a subscription fact describes."""
    return _apply_subscription(fact, at)[0]


def apply_subscription_event(fact: SubscriptionFact, at: datetime) -> NoEffect | None:
    """apply_subscription for the webhook ledger: why the fact changed nothing, if it did."""
    return _apply_subscription(fact, at)[1]


def _apply_subscription(
    fact: SubscriptionFact, at: datetime
) -> tuple[Membership | None, NoEffect | None]:
    if fact.interval not in MEMBERSHIP_INTERVALS:
        log.info("subscription %s has interval %s; not a membership", fact.id, fact.interval)
        return None, NoEffect.NOT_MEMBERSHIP
    supporter = supporter_for(user_id=fact.metadata.user_id, customer_id=fact.customer_id)
    if supporter is None:
        raise ValueError(f"subscription {fact.id} names no customer")
    lock_person(supporter.id)
    membership = get_or_create_locked(
        Membership,
        Membership.stripe_subscription_id,
        fact.id,
        # A placeholder that is not a member; apply_state moves it and the count together.
        {
            "user_id": supporter.id,
            "status": SubscriptionStatus.INCOMPLETE,
            "interval": fact.interval,
            "interval_count": fact.interval_count,
            "amount": fact.amount,
            "currency": fact.currency,
        },
    )
    no_effect = apply_state(membership, state_of(fact), at)
    link_waiting_payments([fact.id])
    return membership, no_effect


def state_of(fact: SubscriptionFact) -> MembershipState:
    """Everything a subscription fact says about its membership (and what it was before)."""
    return MembershipState(
        **{
            **fact.state(),
            "status": SubscriptionStatus(fact.status),
            "interval": fact.interval or "",
        },
        before=_before(fact),
        source_article=fact.metadata.article,
    )


def _before(fact: SubscriptionFact) -> MembershipState | None:
    """The state the fact's event says came before it; None when it says none we can read."""
    if fact.before is None or fact.before.status not in SUBSCRIPTION_STATUSES:
        return None  # only a tie-breaker (transitions): it must never fail the fact
    return state_of(fact.before)


def link_waiting_payments(subscription_ids: list[str]) -> None:
    """Give payments that carried no metadata (older API versions) their membership's person."""
    owner = (
        select(Membership.user_id)
        .where(Membership.stripe_subscription_id == Donation.stripe_subscription_id)
        .scalar_subquery()
    )
    db.session.execute(
        update(Donation)
        .where(Donation.stripe_subscription_id.in_(subscription_ids), Donation.user_id.is_(None))
        .values(user_id=owner)
        .execution_options(synchronize_session="fetch")
    )


def apply_checkout(fact: CheckoutFact, at: datetime) -> CheckoutAttempt | None:
    """Mark our Checkout attempt done and record a one-time gift when it is paid."""
    supporter = supporter_for(
        # A client_reference_id, when there is one, is the authority (even if unreadable).
        user_id=(
            parse_user_id(fact.client_reference_id)
            if fact.client_reference_id
            else fact.metadata.user_id
        ),
        customer_id=fact.customer_id,
        email=fact.email,
    )
    interval = fact.metadata.interval or (ONCE if fact.mode == "payment" else "month")
    paid = fact.is_paid
    attempt = get_or_create_locked(
        CheckoutAttempt,
        CheckoutAttempt.stripe_session_id,
        fact.id,
        {
            "interval": interval,
            "amount": max(fact.amount_total, 1),
            "currency": fact.currency,
            "fee_amount": min(fact.metadata.fee_amount, max(fact.amount_total - 1, 0)),
            "source_article": fact.metadata.article,
            "user_id": supporter.id if supporter else None,
        },
    )
    if attempt.user_id is None and supporter is not None:
        # Paid without an account: Checkout's customer is who the attempt was for.
        attempt.user_id = supporter.id
    if paid and attempt.status != "complete":
        attempt.status = "complete"
        attempt.completed_at = at
        if fact.mode == "subscription" and supporter is not None and not supporter.has_login:
            # Paid before having an account: the address Checkout collected gets a link to
            # claim the membership (pay first). An outbox row, in this transaction: a failed
            # event's savepoint takes it back, and a replay or a retry finds it there.
            queue_claim_mail(attempt, supporter.billing_email)
    elif not paid and fact.status == "expired" and attempt.status == "open":
        attempt.status = "expired"
    if fact.mode == "payment" and paid and fact.payment_intent_id:
        donation = record_gift(
            fact.payment_intent_id,
            amount=fact.amount_total,
            currency=fact.currency,
            # When the money moved: the payment intent's creation if the API expanded it, else
            # this event's time. The session was created earlier, maybe a day before paying.
            paid_at=fact.paid_at or at,
            metadata=fact.metadata,
            email=fact.email,
            customer_id=fact.customer_id,
            user_id=supporter.id if supporter else None,
        )
        donation.stripe_checkout_session_id = fact.id
    if supporter is not None:
        notice_owed(supporter)
    db.session.flush()
    return attempt


def queue_claim_mail(attempt: CheckoutAttempt, to: str | None, key: str = "") -> int | None:
    """Put the pay-first claim mail for a completed attempt in the outbox (once per attempt,
    unless `key` names another cause); rendered when sent, so its link is fresh then."""
    if not to:
        return None
    db.session.flush()  # the attempt's id
    return outbox.enqueue_template(
        key or f"claim:{attempt.id}",
        CLAIM_MAIL,
        to=to,
        subject=CLAIM_SUBJECT,
        context={"attempt_id": attempt.id},
    )


def apply_checkout_failed(fact: CheckoutFact, at: datetime) -> None:
    """A delayed payment method (e.g. a bank debit) failed after Checkout completed."""
    attempt = locked(CheckoutAttempt, CheckoutAttempt.stripe_session_id, fact.id)
    if attempt is not None and attempt.status != "complete":
        attempt.status = "failed"
        db.session.flush()
