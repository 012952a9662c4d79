"""Any order and any repetition of the same events ends in the same records (hypothesis).

Realistic histories (sign-up, renewal, failed payment, recovery, cancel at period end,
deletion, gifts with refunds and disputes; several people, some with two memberships) are
applied in order, then shuffled and with repeats, and the records must come out the same,
with the maintained member count always equal to a full recount. The recount uses the
design notes' member rule written out here (statuses, and the grace of a past_due one), not
the code's, so a wrong rule in the code shows up as a count that disagrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from donations.extensions import db
from donations.facts.facts import EventFact
from donations.models import User, utcnow
from donations.payments.ledger import receive, record
from donations.payments.queue import work_batch
from tests.factories import make_user
from tests.payments.design_rule import (
    GRACE,
    PERIOD,
    assert_counted_by_the_design,
    members_by_the_design,
)
from tests.payments.records_snapshot import reset_records, snapshot_records
from tests.payments.stripe_events import PERIOD_END, World

LONG_AGO = 1_780_000_000  # a period that ended months before any run of this suite

# What can happen to a membership after sign-up, as steps of a script.
SCRIPTS = [
    ["trial", "renew", "cancel_at_end", "delete"],
    ["signup", "fail", "pause", "recover"],
    ["signup", "renew", "renew"],
    ["signup", "fail", "recover", "renew"],
    ["signup", "fail", "fail_final"],
    ["signup", "renew", "cancel_at_end", "delete"],
    ["signup", "cancel_at_end", "resume", "renew"],
    ["signup", "upgrade", "renew", "fail", "fail_final"],
    ["signup", "refund_first", "delete"],
    ["signup", "fail_long_ago", "recover"],
    ["signup", "fail_long_ago", "fail_final"],
    ["signup", "fail_weeks_ago", "recover"],
    ["signup", "fail_weeks_ago"],
    ["incomplete", "expire"],
    ["signup", "dispute_first", "dispute_lost"],
]


@dataclass
class Person:
    """An imagined reader: an account or not, memberships and gifts."""

    key: int
    account: bool
    scripts: list[list[str]]
    # "plain", "refunded", "partly", "twice" (partly, then the rest), "disputed" (and won),
    # "dispute_lost", "refund_fails" (refunded, then the bank sends the money back),
    # "dispute_names_the_charge" (lost)
    gifts: list[str]


GIFTS = [
    "plain",
    "refunded",
    "partly",
    "twice",
    "disputed",
    "dispute_lost",
    "refund_fails",
    "dispute_names_the_charge",  # lost; the dispute names no payment intent (older charges)
]
# Every drawn person sends events, so no example is spent on an empty history: a member has
# an account and at least one membership (Stripe-only people give; see _history), a giver
# with or without an account gives at least once.
member = st.builds(
    Person,
    key=st.just(0),
    account=st.just(True),
    scripts=st.lists(st.sampled_from(SCRIPTS), min_size=1, max_size=2),
    gifts=st.lists(st.sampled_from(GIFTS), max_size=2),
)
giver = st.builds(
    Person,
    key=st.just(0),
    account=st.booleans(),
    scripts=st.just([]),
    gifts=st.lists(st.sampled_from(GIFTS), min_size=1, max_size=2),
)
people = st.lists(st.one_of(member, giver), min_size=1, max_size=3)


def _history(world: World, person: Person, user_id: int | None) -> list[dict]:
    """The events Stripe would send for one person, in the order they happened."""
    cus = f"cus_p{person.key}"
    out: list[dict] = []
    for n, script in enumerate(person.scripts if user_id else []):
        sub, inv = f"sub_p{person.key}_{n}", f"in_p{person.key}_{n}"

        def s(status, type_="customer.subscription.updated", sub=sub, **kw):
            out.append(
                world.event(
                    type_,
                    world.subscription(sub, cus, status, user_id=user_id, article="story", **kw),
                )
            )

        def paid(k, reason="subscription_cycle", sub=sub, inv=inv):
            out.append(
                world.event(
                    "invoice.paid",
                    world.invoice(f"{inv}_{k}", sub, cus, reason=reason, user_id=user_id),
                )
            )
            # In the current API only invoice_payment.paid names the payment intent.
            out.append(
                world.event(
                    "invoice_payment.paid", world.invoice_payment(f"{inv}_{k}", f"pi_{inv}_{k}")
                )
            )

        for k, step in enumerate(script):
            if step == "signup":
                out.append(
                    world.event(
                        "checkout.session.completed",
                        world.checkout(
                            f"cs_{sub}",
                            mode="subscription",
                            customer=cus,
                            subscription=sub,
                            user_id=user_id,
                            amount=800,
                        ),
                    )
                )
                s("active", "customer.subscription.created")
                paid(k, "subscription_create")
            elif step == "trial":  # a trial needs no first payment
                s("trialing", "customer.subscription.created")
            elif step == "pause":  # the account's settings pause it after the last retry
                s("paused", "customer.subscription.paused")
            elif step == "incomplete":
                s("incomplete", "customer.subscription.created")
            elif step == "expire":
                s("incomplete_expired", "customer.subscription.deleted")
            elif step == "renew":
                paid(k)
                s("active", period_end=PERIOD_END + k * 2_600_000)
            elif step == "fail":
                out.append(
                    world.event(
                        "invoice.payment_failed",
                        world.invoice(
                            f"{inv}_{k}", sub, cus, paid=False, user_id=user_id, attempt_count=k
                        ),
                    )
                )
                s("past_due")
            elif step == "recover":
                paid(k)
                s("active")
            elif step == "fail_long_ago":  # Stripe left it past due; the grace ran out
                s("past_due", period_end=LONG_AGO)
            elif step == "fail_weeks_ago":
                # The unpaid period ends in days, but the paid one ended more than GRACE ago.
                soon = int((utcnow() + PERIOD - GRACE - timedelta(days=5)).timestamp())
                s("past_due", period_end=soon)
            elif step == "fail_final":
                s("unpaid")
            elif step == "cancel_at_end":
                s("active", cancel_at_period_end=True)
            elif step == "resume":
                s("active", cancel_at_period_end=False)
            elif step == "upgrade":  # a new price: the revenue totals must follow
                s("active", amount=1500)
            elif step == "delete":
                s("canceled", "customer.subscription.deleted", cancel_at_period_end=True)
            elif step == "refund_first":
                out.append(
                    world.event(
                        "charge.refunded",
                        world.charge(
                            f"ch_{inv}_0", f"pi_{inv}_0", amount=800, refunded=800, gift=False
                        ),
                    )
                )
            elif step == "dispute_first":
                out.append(
                    world.event(
                        "charge.dispute.created",
                        world.dispute(
                            f"dp_{inv}", f"ch_{inv}_0", f"pi_{inv}_0", "needs_response", 800
                        ),
                    )
                )
            elif step == "dispute_lost":
                out.append(
                    world.event(
                        "charge.dispute.closed",
                        world.dispute(f"dp_{inv}", f"ch_{inv}_0", f"pi_{inv}_0", "lost", 800),
                    )
                )
    for n, gift in enumerate(person.gifts):
        pi, ch = f"pi_gift_p{person.key}_{n}", f"ch_gift_p{person.key}_{n}"
        out.append(
            world.event(
                "checkout.session.completed",
                world.checkout(
                    f"cs_gift_p{person.key}_{n}",
                    customer=cus,
                    payment_intent=pi,
                    amount=2500,
                    user_id=user_id,
                    fee=75,
                ),
            )
        )
        out.append(
            world.event(
                "charge.succeeded",
                world.charge(ch, pi, amount=2500, customer=cus, user_id=user_id, fee=75),
            )
        )
        refunds = {"refunded": [2500], "partly": [1000], "twice": [1000, 2500]}.get(gift, [])
        for refunded in refunds:  # a charge's amount_refunded is the running total
            out.append(
                world.event(
                    "charge.refunded",
                    world.charge(
                        ch,
                        pi,
                        amount=2500,
                        refunded=refunded,
                        customer=cus,
                        user_id=user_id,
                        fee=75,
                    ),
                )
            )
        if gift == "refund_fails":
            created = next(world.clock)

            def refund(status, ch=ch, pi=pi, created=created):
                return world.refund(f"re_{pi}", ch, pi, status, amount=1000, created=created)

            total = world.charge(
                ch, pi, amount=2500, refunded=1000, customer=cus, user_id=user_id, fee=75
            )
            out.append(world.event("refund.created", refund("pending"), at=created))
            out.append(world.event("charge.refunded", total, at=created))
            out.append(world.event("refund.updated", refund("succeeded")))
            out.append(world.event("refund.failed", refund("failed")))
        if gift in ("disputed", "dispute_lost", "dispute_names_the_charge"):
            outcome = "won" if gift == "disputed" else "lost"
            named = None if gift == "dispute_names_the_charge" else pi
            for type_, status in (
                ("created", "needs_response"),
                ("funds_withdrawn", "needs_response"),
                ("closed", outcome),
            ):
                out.append(
                    world.event(
                        f"charge.dispute.{type_}",
                        world.dispute(f"dp_{pi}", ch, named, status, 2500),
                    )
                )
    return out


def _apply(events: list[dict]) -> None:
    for event in events:
        payload = json.dumps(event)
        receive(EventFact.from_payload(event, raw=payload), livemode=False, installation="dours")
        db.session.commit()
        # The maintained count and revenue totals equal a recount after every single event.
        assert_counted_by_the_design()


def _apply_queued(events: list[dict], batch: int) -> None:
    for event in events:
        record(EventFact.from_payload(event, raw=json.dumps(event)))
    db.session.commit()
    while work_batch(livemode=False, installation="dours", limit=batch):
        db.session.commit()
        assert_counted_by_the_design()


# max_examples and deadline come from the suite's Hypothesis profile (tests/conftest.py).
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cast=people, data=st.data())
def test_any_order_and_repetition_gives_the_same_records(app, db, cast, data):
    reset_records()
    db.session.execute(delete(User))
    db.session.commit()
    world = World()
    events: list[dict] = []
    for key, person in enumerate(cast):
        person.key = key
        user = make_user(email=f"person{key}@example.org") if person.account else None
        events += _history(world, person, user.id if user else None)

    _apply(events)
    expected = snapshot_records()
    assert expected["members"] == expected["history_sum"] == members_by_the_design()

    # Newest first is the hardest order; then a random one with repeats.
    reset_records()
    _apply(list(reversed(events)))
    assert snapshot_records() == expected

    reset_records()
    shuffled = data.draw(st.permutations(events), label="order")
    repeats = data.draw(
        st.lists(st.sampled_from(events), max_size=6) if events else st.just([]), label="repeats"
    )
    positions = data.draw(
        st.lists(st.integers(0, len(shuffled)), min_size=len(repeats), max_size=len(repeats)),
        label="where",
    )
    for event, where in zip(repeats, positions, strict=True):
        shuffled.insert(where, event)
    _apply(shuffled)
    assert snapshot_records() == expected

    # The webhook worker (WEBHOOK_QUEUE=1): the same deliveries stored, then applied in
    # batches, subscription facts that can go together at once and the rest one by one.
    reset_records()
    _apply_queued(shuffled, data.draw(st.integers(2, 8), label="batch"))
    assert snapshot_records() == expected
