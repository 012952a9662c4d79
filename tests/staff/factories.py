"""Staff-test factories: supporters, memberships through the webhook functions, payments, events.

Memberships go through records.apply_subscription, the function webhooks use, so every
change writes its dated MemberChange and moves the live counter exactly as in production.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from donations.extensions import db
from donations.facts.facts import SubscriptionFact
from donations.facts.metadata import CheckoutMetadata
from donations.membership.records import apply_subscription
from donations.models import (
    Donation,
    FailedPayment,
    Membership,
    PaymentAdjustment,
    StripeEvent,
    User,
)

_ids = itertools.count(1)


def make_supporter(name: str = "", billing_email: str | None = None, **fields) -> User:
    """A Stripe-only supporter (no login) with its own customer id."""
    n = next(_ids)
    user = User(
        name=name,
        billing_email=billing_email or f"supporter{n}@example.net",
        stripe_customer_id=fields.pop("stripe_customer_id", f"cus_test{n:05d}"),
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def _fact(membership_id: str, user: User, status: str, at: datetime, **values) -> SubscriptionFact:
    metadata = {"user_id": str(user.id)}
    if values.get("article"):
        metadata["article"] = values["article"]
    interval = values.get("interval", "month")
    return SubscriptionFact(
        id=membership_id,
        customer_id=user.stripe_customer_id,
        status=status,
        cancel_at_period_end=values.get("cancel_at_period_end", False),
        current_period_start=values.get("current_period_start"),
        current_period_end=values.get(
            "current_period_end", at + timedelta(days=365 if interval == "year" else 30)
        ),
        started_at=values.get("started_at", at),
        ended_at=at if status in ("canceled", "incomplete_expired") else None,
        interval=interval,
        interval_count=values.get("interval_count", 1),
        amount=values.get("amount", 800),
        currency=values.get("currency", "usd"),
        metadata=CheckoutMetadata.from_stripe(metadata),
    )


def subscribe(
    user: User,
    at: datetime,
    *,
    status: str = "active",
    interval: str = "month",
    amount: int = 800,
    currency: str = "usd",
    article: str | None = None,
    sub_id: str | None = None,
) -> Membership:
    """A membership that started at `at`, recorded as the webhook would record it."""
    membership = apply_subscription(
        _fact(
            sub_id or f"sub_test{next(_ids):05d}",
            user,
            status,
            at,
            interval=interval,
            amount=amount,
            currency=currency,
            article=article,
        ),
        at,
    )
    db.session.commit()
    assert membership is not None
    return membership


def change_status(membership: Membership, status: str, at: datetime) -> Membership:
    """Stripe says the membership moved to `status` at `at` (e.g. canceled, past_due).

    A renewal that fails (past_due) is for the next period, which Stripe opens at the end of
    the paid one before it charges for it.
    """
    user = db.session.get(User, membership.user_id)
    period: dict[str, datetime | None] = {"current_period_end": membership.current_period_end}
    if status == "past_due" and membership.status != "past_due" and membership.current_period_end:
        paid_until = membership.current_period_end
        period = {
            "current_period_start": paid_until,
            "current_period_end": paid_until
            + timedelta(days=365 if membership.interval == "year" else 30),
        }
    fact = _fact(
        membership.stripe_subscription_id,
        user,
        status,
        at,
        interval=membership.interval,
        amount=membership.amount,
        currency=membership.currency,
        started_at=membership.started_at,
        **period,
    )
    changed = apply_subscription(fact, at)
    db.session.commit()
    assert changed is not None
    return changed


def make_gift(
    user: User | None,
    amount: int,
    currency: str,
    paid_at: datetime,
    *,
    refunded: int = 0,
    article: str | None = None,
    kind: str = "gift",
) -> Donation:
    """A paid donation (a gift unless `kind` says otherwise), optionally partly refunded."""
    n = next(_ids)
    intent = f"pi_test{n:05d}"
    donation = Donation(
        kind=kind,
        amount=amount,
        currency=currency,
        paid_at=paid_at,
        source_article=article,
        user_id=user.id if user else None,
        stripe_payment_intent_id=intent,
        stripe_invoice_id=None if kind == "gift" else f"in_test{n:05d}",
        stripe_customer_id=user.stripe_customer_id if user else None,
    )
    db.session.add(donation)
    if refunded:
        db.session.add(
            PaymentAdjustment(
                stripe_payment_intent_id=intent,
                stripe_charge_id=f"ch_test{n:05d}",
                amount_refunded=refunded,
            )
        )
    db.session.commit()
    return donation


def make_failed_payment(membership: Membership, at: datetime, attempts: int = 1) -> FailedPayment:
    """A failed renewal invoice of this membership, first heard of at `at`."""
    row = FailedPayment(
        stripe_invoice_id=f"in_failed{next(_ids):05d}",
        stripe_subscription_id=membership.stripe_subscription_id,
        amount=membership.amount,
        currency=membership.currency,
        attempt_count=attempts,
        failed_at=at,
        created_at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row


# --- webhook events in the ledger -----------------------------------------------------

# When the ledger's test events happened.
EVENT_TIME = datetime(2026, 11, 1, 9, tzinfo=UTC)


def subscription_event(event_id: str, user_id: int | str = 1) -> dict:
    """A customer.subscription.created event as Stripe sends it (the fields we read)."""
    return {
        "id": event_id,
        "object": "event",
        "type": "customer.subscription.created",
        "created": int(EVENT_TIME.timestamp()),
        "livemode": False,
        "data": {
            "object": {
                "id": "sub_replayed",
                "object": "subscription",
                "customer": "cus_replayed",
                "status": "active",
                "currency": "usd",
                "start_date": int(EVENT_TIME.timestamp()),
                "metadata": {"user_id": str(user_id), "note": "<script>alert(1)</script>"},
                "items": {
                    "data": [
                        {
                            "current_period_end": int(EVENT_TIME.timestamp()) + 86400 * 30,
                            "quantity": 1,
                            "price": {
                                "unit_amount": 800,
                                "currency": "usd",
                                "recurring": {"interval": "month"},
                            },
                        }
                    ]
                },
            }
        },
    }


def store(event: dict, status: str, error: str | None = None) -> StripeEvent:
    """Put an event into the ledger as if it had been received."""
    row = StripeEvent(
        stripe_event_id=event["id"],
        type=event["type"],
        created=EVENT_TIME,
        livemode=False,
        payload=json.dumps(event),
        status=status,
        error=error,
        attempts=1,
        object_id=event["data"]["object"]["id"],
        customer_id="cus_replayed",
    )
    db.session.add(row)
    db.session.commit()
    return row
