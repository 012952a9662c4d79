"""Synthetic members for demos and benchmarks (`seed-demo --members N`).

They are Stripe-only supporters with made-up ids (cus_demo_…, sub_demo_…, in_demo_…), so they
never collide with real Stripe objects (whose ids have no second underscore), and seeding twice
with the same N adds nothing. Their payments have no payment intent and no balance transaction:
whatever waits for Stripe (the dashboard's "no fee recorded yet") leaves them out by DEMO_INVOICE.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from donations.extensions import db
from donations.membership import totals
from donations.membership.progress import move_counter, recount_members
from donations.models import Donation, MemberChange, Membership, User, utcnow

BATCH = 5_000
DEMO_INVOICE = "in_demo_"  # the prefix of every demo payment's invoice id
CURRENCIES = ("usd", "eur", "gbp")
MONTHLY = (500, 800, 1500, 2500)
YEARLY = (5000, 8000, 15000)


def _batch(start: int, stop: int, rng: random.Random, user_ids: dict[str, int]) -> None:
    now = utcnow()
    memberships, donations, changes = [], [], []
    for n in range(start, stop):
        yearly = rng.random() < 0.25
        joined = now - timedelta(days=rng.uniform(0, 120))
        customer = f"cus_demo_{n:07d}"
        amount = rng.choice(YEARLY if yearly else MONTHLY)
        currency = rng.choice(CURRENCIES)
        memberships.append(
            {
                "user_id": user_ids[customer],
                "stripe_subscription_id": f"sub_demo_{n:07d}",
                "status": "active",
                "interval": "year" if yearly else "month",
                "amount": amount,
                "currency": currency,
                "cancel_at_period_end": False,
                "started_at": joined,
                "current_period_end": joined + timedelta(days=365 if yearly else 30),
                "fact_at": joined,
                "created_at": joined,
                "updated_at": joined,
            }
        )
        donations.append(
            {
                "stripe_invoice_id": f"{DEMO_INVOICE}{n:07d}",
                "stripe_customer_id": customer,
                "stripe_subscription_id": f"sub_demo_{n:07d}",
                "user_id": user_ids[customer],
                "kind": "membership_first",
                "amount": amount,
                "fee_amount": 0,
                "currency": currency,
                "paid_at": joined,
                "created_at": joined,
            }
        )
        changes.append(
            {"user_id": user_ids[customer], "delta": 1, "occurred_at": joined, "recorded_at": now}
        )
    db.session.execute(insert(Membership), memberships)
    db.session.execute(insert(Donation), donations)
    db.session.execute(insert(MemberChange), changes)


def seed_members(count: int, seed: int = 20_000) -> int:
    """Make sure demo members 0..count-1 exist; return how many were added."""
    existing = db.session.scalar(
        select(func.count()).select_from(User).where(User.stripe_customer_id.like("cus_demo_%"))
    )
    if existing >= count:
        return 0
    rng = random.Random(seed + existing)  # noqa: S311 (demo data, not secrets)
    for start in range(existing, count, BATCH):
        stop = min(start + BATCH, count)
        now = utcnow()
        db.session.execute(
            insert(User),
            [
                {
                    "stripe_customer_id": f"cus_demo_{n:07d}",
                    "name": f"Demo member {n}",
                    "billing_email": f"demo{n:07d}@example.org",
                    "is_staff": False,
                    "created_at": now,
                }
                for n in range(start, stop)
            ],
        )
        ids = db.session.execute(
            select(User.stripe_customer_id, User.id).where(
                User.stripe_customer_id.between(f"cus_demo_{start:07d}", f"cus_demo_{stop - 1:07d}")
            )
        )
        _batch(start, stop, rng, dict(ids.all()))
    # Bulk rows bypass the transition function, so set the counter from a recount here,
    # in the same transaction: it stays equal to a recount, as everywhere else.
    move_counter(to=recount_members())
    totals.rebuild()
    db.session.flush()
    return count - existing
