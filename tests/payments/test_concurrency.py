"""Stripe sends the same event twice at the same moment, to different threads (PostgreSQL).

Requests go over real HTTP to a threaded server, so each copy runs in its own thread,
session and database connection: only database constraints and row locks keep them apart.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from donations.extensions import db
from donations.membership.progress import get_progress, recount_members
from donations.models import Donation, MemberChange, Membership, StripeEvent, User
from tests.factories import make_user
from tests.payments.stripe_events import World, signature_header

pytestmark = pytest.mark.postgres_only  # row locks and real concurrency


def _post_all_at_once(url: str, secret: str, events: list[dict]) -> list[int]:
    """POST every event in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(events))
    statuses: list[int] = [0] * len(events)

    def send(index: int, event: dict) -> None:
        payload = json.dumps(event).encode()
        request = urllib.request.Request(
            url + "/stripe/webhook", data=payload, method="POST",
            headers={"Content-Type": "application/json",
                     "Stripe-Signature": signature_header(payload.decode(), secret)},
        )  # fmt: skip
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses[index] = response.status
        except urllib.error.HTTPError as exc:
            statuses[index] = exc.code

    threads = [threading.Thread(target=send, args=(i, e)) for i, e in enumerate(events)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_same_event_from_eight_threads_has_one_effect(live_server):
    app = live_server.app
    with app.app_context():
        user = make_user()
        event = World().event(
            "customer.subscription.created",
            World().subscription("sub_1", "cus_1", "active", user_id=user.id),
        )
        statuses = _post_all_at_once(
            live_server.url, app.config["STRIPE_WEBHOOK_SECRET"], [event] * 8
        )
        db.session.expire_all()
        assert statuses == [200] * 8
        assert _count(StripeEvent) == 1 and _count(Membership) == 1 and _count(MemberChange) == 1
        assert get_progress().members == 1 == recount_members()


def test_related_events_of_one_subscription_at_once_end_right(live_server):
    app = live_server.app
    with app.app_context():
        user = make_user()
        world = World()

        def sub(status, **kw):
            return world.subscription(
                "sub_1",
                "cus_1",
                status,
                user_id=user.id,
                **kw,
            )

        events = [
            world.event(
                "checkout.session.completed",
                world.checkout(
                    "cs_1",
                    mode="subscription",
                    customer="cus_1",
                    subscription="sub_1",
                    user_id=user.id,
                    amount=800,
                ),
            ),
            world.event("customer.subscription.created", sub("incomplete")),
            world.event("customer.subscription.updated", sub("active")),
            world.event(
                "invoice.paid",
                world.invoice(
                    "in_1",
                    "sub_1",
                    "cus_1",
                    reason="subscription_create",
                    user_id=user.id,
                ),
            ),
            # Its link to the payment intent, at the same moment as the invoice itself.
            world.event("invoice_payment.paid", world.invoice_payment("in_1", "pi_1")),
            world.event("customer.subscription.updated", sub("active", cancel_at_period_end=True)),
        ]
        statuses = _post_all_at_once(
            live_server.url, app.config["STRIPE_WEBHOOK_SECRET"], events * 2
        )
        db.session.expire_all()
        assert statuses == [200] * 12
        membership = db.session.scalar(select(Membership))
        assert (membership.status, membership.cancel_at_period_end) == ("active", True)
        assert _count(Donation) == 1 and _count(StripeEvent) == 6
        assert db.session.scalar(select(Donation.stripe_payment_intent_id)) == "pi_1"
        assert (
            db.session.scalar(select(User.stripe_customer_id).where(User.id == user.id)) == "cus_1"
        )
        assert get_progress().members == 1 == recount_members()


def test_two_memberships_of_one_person_at_once_count_once(live_server):
    app = live_server.app
    with app.app_context():
        # Already linked to its customer, so only the person lock keeps the count right.
        user = make_user(stripe_customer_id="cus_1")
        world = World()
        events = [
            world.event(
                "customer.subscription.created",
                world.subscription(f"sub_{n}", "cus_1", "active", user_id=user.id),
            )
            for n in range(8)
        ]
        statuses = _post_all_at_once(live_server.url, app.config["STRIPE_WEBHOOK_SECRET"], events)
        db.session.expire_all()
        assert statuses == [200] * 8
        assert _count(Membership) == 8 and _count(MemberChange) == 1
        assert get_progress().members == 1 == recount_members()
