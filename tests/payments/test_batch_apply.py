"""The webhook worker applies subscription facts that can go together at once
(membership.batch): the same records as one by one, in a number of statements that does not
grow with the batch, and a failing batch falls back to one by one, losing nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select, update

from donations.accounts.claims import attach
from donations.extensions import db
from donations.facts.facts import EventFact
from donations.membership import batch
from donations.membership.progress import get_progress, recount_members
from donations.models import Donation, MemberChange, Membership, RecurringTotal, StripeEvent, User
from donations.payments.ledger import receive, record
from donations.payments.queue import work_batch
from tests.factories import make_user
from tests.payments.records_snapshot import reset_records, snapshot_records
from tests.payments.stripe_events import World

INSTALLATION = "dours"


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _one_by_one(events: list[dict]) -> None:
    for e in events:
        receive(
            EventFact.from_payload(e, raw=json.dumps(e)), livemode=False, installation=INSTALLATION
        )
        db.session.commit()


def _queued(events: list[dict], limit: int = 500) -> None:
    for e in events:
        record(EventFact.from_payload(e, raw=json.dumps(e)))
    db.session.commit()
    while work_batch(livemode=False, installation=INSTALLATION, limit=limit):
        db.session.commit()
    db.session.expire_all()


def _new_members(world: World, first: int, n: int) -> list[dict]:
    return [
        world.event(
            "customer.subscription.created",
            world.subscription(f"sub_new{k}", f"cus_new{k}", "active", amount=500 + k % 3),
        )
        for k in range(first, first + n)
    ]


class _Statements:
    """Counts the SQL statements sent while it is open."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1


def test_a_batch_of_new_members_takes_the_same_statements_whatever_its_size(app, db, world):
    counts = []
    for first, n in ((0, 5), (5, 60)):
        for e in _new_members(world, first, n):
            record(EventFact.from_payload(e, raw=json.dumps(e)))
        db.session.commit()

        with _Statements() as statements:
            outcomes = work_batch(livemode=False, installation=INSTALLATION, limit=100)
            db.session.commit()
        assert [o.status for o in outcomes] == ["processed"] * n
        counts.append(statements.count)
    # One by one, each event costs about fifteen statements; together, a fixed handful.
    assert counts[0] == counts[1] < 30, counts
    assert get_progress().members == 65 == recount_members() == _count(Membership)
    assert _count(MemberChange) == 65 and _count(User) == 65
    assert db.session.scalar(select(func.sum(RecurringTotal.memberships))) == 65
    assert _count(StripeEvent, StripeEvent.status == "processed", StripeEvent.attempts == 1) == 65


def _cast(world: World) -> tuple[list[dict], list[dict]]:
    """Events that make a cast of members, then a batch of facts about them and newcomers."""
    ann = make_user(email="ann@example.org")  # has an account, no customer yet
    dee = make_user(email="dee@example.org")  # will name a customer that is someone else's
    eve = make_user(email="eve@example.org")
    make_user(email="jan@example.org", stripe_customer_id="cus_jan")
    bob = make_user(email="bob@example.org")
    cy = make_user(email="cy@example.org", stripe_customer_id="cus_cy_own")  # another customer
    db.session.commit()

    def sub(sub_id, customer, status, **kw):
        return world.subscription(sub_id, customer, status, **kw)

    before = [
        world.event(
            "customer.subscription.created", sub("sub_bob", "cus_bob", "active", user_id=bob.id)
        ),
        world.event("customer.subscription.created", sub("sub_old", "cus_old", "active")),
        world.event("customer.subscription.created", sub("sub_up", "cus_up", "active")),
        world.event("customer.subscription.created", sub("sub_two1", "cus_two", "active")),
        world.event("customer.subscription.created", sub("sub_late", "cus_late", "active")),
        world.event("customer.subscription.created", sub("sub_jan", "cus_jan", "active")),
        # jan also paid before logging in, as a Stripe-only supporter (attached below).
        world.event("customer.subscription.created", sub("sub_jan2", "cus_paid_first", "active")),
    ]
    # A payment in the older layout (no metadata) of a customer we don't know yet: it
    # waits, with no person, for its subscription's fact to claim it.
    unclaimed = world.invoice("in_new1", "sub_new1", "cus_new1")
    unclaimed["parent"]["subscription_details"]["metadata"] = {}
    before.append(world.event("invoice.paid", unclaimed))
    later = world.event("customer.subscription.updated", sub("sub_late", "cus_late", "past_due"))
    batch_events = [
        # A reader with an account pays for the first time: linked to their new customer.
        world.event(
            "customer.subscription.created", sub("sub_ann", "cus_ann", "active", user_id=ann.id)
        ),
        # Bob stops being a member; someone leaves, someone's amount changes.
        world.event(
            "customer.subscription.deleted", sub("sub_bob", "cus_bob", "canceled", user_id=bob.id)
        ),
        world.event("customer.subscription.deleted", sub("sub_old", "cus_old", "canceled")),
        world.event(
            "customer.subscription.updated",
            sub("sub_up", "cus_up", "active", amount=2500, interval="year"),
        ),
        # A second membership of a member: the count doesn't move.
        world.event("customer.subscription.created", sub("sub_two2", "cus_two", "active")),
        # cy's account names another customer: this fact goes by its customer.
        world.event(
            "customer.subscription.created", sub("sub_cy", "cus_cy_new", "active", user_id=cy.id)
        ),
        # The same subscription twice in one batch, and an older fact after a newer one.
        world.event("customer.subscription.created", sub("sub_twice", "cus_twice", "incomplete")),
        world.event("customer.subscription.updated", sub("sub_twice", "cus_twice", "active")),
        later,
        world.event("customer.subscription.updated", sub("sub_late", "cus_late", "active"), at=1),
        # dee's fact names the customer of a Stripe-only supporter: not linked to dee.
        world.event(
            "customer.subscription.created",
            sub("sub_dee", "cus_old", "active", user_id=dee.id),
        ),
        # Two facts of one customer, the second naming an account: one by one, the first
        # makes the customer a Stripe-only supporter, so the second doesn't link it to eve.
        world.event("customer.subscription.created", sub("sub_sh1", "cus_shared", "active")),
        world.event(
            "customer.subscription.created",
            sub("sub_sh2", "cus_shared", "active", user_id=eve.id),
        ),
        # jan leaves: both memberships end, through two customers, and jan is one person.
        world.event("customer.subscription.deleted", sub("sub_jan", "cus_jan", "canceled")),
        world.event("customer.subscription.deleted", sub("sub_jan2", "cus_paid_first", "canceled")),
        # Not a membership (a weekly plan), and a trial.
        world.event(
            "customer.subscription.created", sub("sub_week", "cus_week", "active", interval="week")
        ),
        world.event("customer.subscription.created", sub("sub_trial", "cus_trial", "trialing")),
        *_new_members(world, 0, 4),
    ]
    return before, batch_events


def _attach_paid_first() -> None:
    """jan claims what they paid before logging in (accounts.claims.attach)."""
    jan = db.session.scalar(select(User).where(User.email == "jan@example.org"))
    paid = db.session.scalar(select(User).where(User.stripe_customer_id == "cus_paid_first"))
    attach(jan, paid)
    db.session.commit()


def _member_changes() -> list[tuple]:
    """Every dated member change a fact made, by person (row ids depend on arrival order)."""
    rows = db.session.execute(
        select(User.email, User.stripe_customer_id, MemberChange.delta, MemberChange.occurred_at)
        .join(User, User.id == MemberChange.user_id)
        .where(MemberChange.membership_id.is_not(None))  # not attach's, dated when it ran
    )
    return sorted((email or "", customer or "", delta, at) for email, customer, delta, at in rows)


@pytest.mark.parametrize("limit", [500, 3])
def test_a_batch_gives_the_records_one_by_one_gives(app, db, world, caplog, limit):
    before, batch_events = _cast(world)
    _one_by_one(before)
    _attach_paid_first()
    _one_by_one(batch_events)
    expected = {**snapshot_records(), "changes": _member_changes()}
    assert expected["members"] == expected["history_sum"] == recount_members()
    assert "customer cus_old belongs to user" in caplog.text

    reset_records()  # which forgets every account's customer: cy's was there before Stripe's
    for email, customer in (("cy@example.org", "cus_cy_own"), ("jan@example.org", "cus_jan")):
        db.session.execute(
            update(User).where(User.email == email).values(stripe_customer_id=customer)
        )
    _one_by_one(before)
    _attach_paid_first()
    caplog.clear()
    _queued(batch_events, limit=limit)
    assert {**snapshot_records(), "changes": _member_changes()} == expected
    assert "customer cus_old belongs to user" in caplog.text
    payment = db.session.scalar(select(Donation).where(Donation.stripe_invoice_id == "in_new1"))
    assert payment.user_id is not None
    assert _count(StripeEvent, StripeEvent.status != "processed") == 0
    ann = db.session.scalar(select(User).where(User.email == "ann@example.org"))
    assert ann.stripe_customer_id == "cus_ann"
    cy = db.session.scalar(select(User).where(User.email == "cy@example.org"))
    assert cy.stripe_customer_id == "cus_cy_own"


def test_a_failing_batch_leaves_nothing_and_every_event_is_applied_one_by_one(
    app, db, world, monkeypatch, caplog
):
    events = _new_members(world, 0, 6)
    real = batch.apply_subscriptions

    def half_then_fail(items):
        real(items)  # writes rows, moves the counter and the totals…
        raise RuntimeError("deadlock detected")  # …then fails, as a deadlock would

    monkeypatch.setattr(batch, "apply_subscriptions", half_then_fail)
    _queued(events)
    assert "applying 6 subscription facts together failed" in caplog.text
    assert get_progress().members == 6 == recount_members() == _count(MemberChange)
    assert db.session.scalar(select(func.sum(RecurringTotal.memberships))) == 6
    assert _count(StripeEvent, StripeEvent.status == "processed", StripeEvent.attempts == 1) == 6
