"""Realistic Stripe events for tests: Stripe's own example objects, filled in, signed by the SDK.

The example objects in tests/fixtures/stripe/ are copies of Stripe's published fixtures
(stripe/openapi, fixtures3.json), so the layout is the current API's.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from functools import cache
from pathlib import Path
from typing import Any

import stripe

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe"
API_VERSION = "2026-10-28.endive"
# Far ahead, so a past_due membership of these tests is within its grace (MEMBER_GRACE_DAYS
# after the period end) whenever the suite runs; grace tests choose their own period ends.
PERIOD_END = 2_000_000_000
PERIOD_DAYS = {"month": 30, "year": 365}


@cache
def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of one of Stripe's example objects."""
    return copy.deepcopy(_fixture(name))


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header, computed with the SDK's own signing function."""
    t = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{t}.{payload}", secret)
    return f"t={t},v1={signature}"


def post_event(client, event: dict[str, Any], secret: str, **kwargs):
    """POST an event to /stripe/webhook with a valid signature; return the response."""
    payload = json.dumps(event)
    return client.post(
        "/stripe/webhook",
        data=payload,
        headers={
            "Stripe-Signature": signature_header(payload, secret, **kwargs),
            "Content-Type": "application/json",
        },
    )


class World:
    """Builds events about one imaginary Stripe account, each at a later second."""

    def __init__(self, start: int = 1_790_000_000) -> None:
        self.clock = itertools.count(start, 60)
        self.ids = itertools.count(1)

    def event(
        self,
        type_: str,
        obj: dict[str, Any],
        at: int | None = None,
        livemode: bool = False,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Wrap an object in an event envelope (`previous`: an update's previous_attributes)."""
        envelope = fixture("event")
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        envelope.update(
            id=f"evt_{next(self.ids):06d}{type_.replace('.', '')[:12]}",
            type=type_,
            created=at if at is not None else next(self.clock),
            api_version=API_VERSION,
            livemode=livemode,
            data=data,
        )
        return envelope

    def subscription(
        self,
        sub_id: str,
        customer: str,
        status: str,
        *,
        user_id: int | None = None,
        interval: str = "month",
        interval_count: int = 1,
        amount: int = 800,
        currency: str = "usd",
        cancel_at_period_end: bool = False,
        period_end: int = PERIOD_END,
        article: str | None = None,
        period_start: int | None = None,
    ) -> dict[str, Any]:
        """A subscription object in the given state.

        Its current period starts `period_start`, by default one period (30 or 365 days per
        interval_count) before `period_end`.
        """
        if period_start is None:
            period_start = period_end - interval_count * PERIOD_DAYS.get(interval, 30) * 86_400
        sub = fixture("subscription")
        metadata = {"interval": interval, "fee_amount": "0"}
        if user_id is not None:
            metadata["user_id"] = str(user_id)
        if article:
            metadata["article"] = article
        item = sub["items"]["data"][0]
        item["price"].update(unit_amount=amount, currency=currency)
        item["price"]["recurring"].update(interval=interval, interval_count=interval_count)
        item.update(
            current_period_start=period_start,
            current_period_end=period_end,
            quantity=1,
            subscription=sub_id,
        )
        sub["items"]["data"] = [item]
        sub.update(
            id=sub_id,
            customer=customer,
            status=status,
            currency=currency,
            cancel_at_period_end=cancel_at_period_end,
            metadata=metadata,
            start_date=1_789_000_000,
            ended_at=None if status not in ("canceled", "incomplete_expired") else period_end,
            livemode=False,
            # The fixture's placeholders would make it paused and in a trial long ago.
            pause_collection=None,
            trial_start=None,
            trial_end=None,
        )
        return sub

    def invoice(
        self,
        inv_id: str,
        sub_id: str,
        customer: str,
        *,
        amount: int = 800,
        currency: str = "usd",
        reason: str = "subscription_cycle",
        paid: bool = True,
        user_id: int | None = None,
        attempt_count: int = 1,
    ) -> dict[str, Any]:
        """An invoice of a subscription, paid or failed (its payment intent is not on it)."""
        inv = fixture("invoice")
        metadata = {"interval": "month", "fee_amount": "0"}
        if user_id is not None:
            metadata["user_id"] = str(user_id)
        inv.update(
            id=inv_id,
            customer=customer,
            currency=currency,
            billing_reason=reason,
            amount_due=amount,
            amount_paid=amount if paid else 0,
            amount_remaining=0 if paid else amount,
            status="paid" if paid else "open",
            attempt_count=attempt_count,
            customer_email="member@example.org",
            parent={
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"subscription": sub_id, "metadata": metadata},
            },
            status_transitions={
                "paid_at": 1_790_000_000 if paid else None,
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "voided_at": None,
            },
        )
        return inv

    def invoice_payment(
        self,
        inv_id: str,
        payment_intent: str,
        *,
        amount: int = 800,
        currency: str = "usd",
        paid_at: int = 1_790_000_000,
    ) -> dict[str, Any]:
        """The InvoicePayment of `invoice_payment.paid`: which payment intent paid an invoice."""
        return {
            "id": f"inpay_{inv_id}",
            "object": "invoice_payment",
            "amount_paid": amount,
            "amount_requested": amount,
            "created": paid_at,
            "currency": currency,
            "invoice": inv_id,
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": payment_intent},
            "status": "paid",
            "status_transitions": {"canceled_at": None, "paid_at": paid_at},
        }

    def checkout(
        self,
        cs_id: str,
        *,
        mode: str = "payment",
        customer: str | None = None,
        amount: int = 1000,
        currency: str = "usd",
        user_id: int | None = None,
        payment_intent: str | None = None,
        subscription: str | None = None,
        email: str = "giver@example.org",
        paid: bool = True,
        fee: int = 0,
        article: str | None = None,
    ) -> dict[str, Any]:
        """A completed Checkout Session."""
        cs = fixture("checkout_session")
        metadata = {"interval": "once" if mode == "payment" else "month", "fee_amount": str(fee)}
        if user_id is not None:
            metadata["user_id"] = str(user_id)
        if article:
            metadata["article"] = article
        cs["customer_details"]["email"] = email
        cs.update(
            id=cs_id,
            mode=mode,
            customer=customer,
            amount_total=amount,
            amount_subtotal=amount,
            currency=currency,
            client_reference_id=str(user_id) if user_id else None,
            payment_intent=payment_intent if mode == "payment" else None,
            subscription=subscription,
            status="complete",
            payment_status="paid" if paid else "unpaid",
            metadata=metadata,
            created=1_790_000_000,
        )
        return cs

    def charge(
        self,
        ch_id: str,
        payment_intent: str,
        *,
        amount: int = 1000,
        refunded: int = 0,
        currency: str = "usd",
        customer: str | None = None,
        gift: bool = True,
        user_id: int | None = None,
        fee: int = 0,
        email: str = "giver@example.org",
    ) -> dict[str, Any]:
        """A succeeded charge, possibly (partly) refunded."""
        ch = fixture("charge")
        metadata = {"interval": "once", "fee_amount": str(fee)} if gift else {}
        if gift and user_id is not None:
            metadata["user_id"] = str(user_id)
        ch["billing_details"]["email"] = email
        ch.update(
            id=ch_id,
            payment_intent=payment_intent,
            amount=amount,
            amount_captured=amount,
            amount_refunded=refunded,
            refunded=refunded >= amount,
            currency=currency,
            customer=customer,
            metadata=metadata,
            status="succeeded",
            paid=True,
            created=1_790_000_100,
        )
        return ch

    def refund(
        self,
        re_id: str,
        charge: str,
        payment_intent: str | None,
        status: str = "succeeded",
        *,
        amount: int = 1000,
        created: int = 1_790_000_200,
    ) -> dict[str, Any]:
        """A refund of (part of) a charge, in the given status."""
        re = fixture("refund")
        re.update(
            id=re_id,
            charge=charge,
            payment_intent=payment_intent,
            status=status,
            amount=amount,
            currency="usd",
            created=created,
        )
        return re

    def dispute(
        self, dp_id: str, charge: str, payment_intent: str | None, status: str, amount: int = 1000
    ) -> dict[str, Any]:
        """A dispute on a charge (naming its payment intent, or None as the fixture does)."""
        dp = fixture("dispute")
        dp.update(
            id=dp_id,
            charge=charge,
            payment_intent=payment_intent,
            status=status,
            amount=amount,
            currency="usd",
        )
        return dp
