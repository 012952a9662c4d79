"""Many subscription facts applied together: the webhook worker's path through a storm.

A viral appeal brings a storm of facts about different people, mostly new members with one
subscription each. One by one (records.apply_subscription) each fact costs about fifteen
statements; here a whole batch costs a fixed handful: the batch's supporters and memberships
are made with one INSERT … ON CONFLICT each and locked with one SELECT … FOR UPDATE each, the
member rule is asked once before and once after for everyone, and the counter, the recurring
totals, the dated member changes and waiting payments move once for the batch. The rules are
the same functions as one by one (supporters.claimed_by for linking,
transitions.why_no_effect, assign_state and counted_changes for the state and the count), so
the records come out the same: tests/payments/test_event_order.py and test_batch_apply.py apply
shuffled histories both ways and compares.

Only facts that cannot interfere are applied together: at most one per customer (so per
subscription) and per person. The rest are handed back for the one-by-one path, which may run
after this in the same transaction, because every fact commutes (design notes §8).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from donations.extensions import db
from donations.facts.facts import SubscriptionFact
from donations.membership.locking import insert_all_if_absent
from donations.membership.records import link_waiting_payments, state_of
from donations.membership.supporters import claimed_by
from donations.membership.transitions import assign_state, counted_changes, why_no_effect
from donations.models import MEMBERSHIP_INTERVALS, Membership, NoEffect, SubscriptionStatus, User


@dataclass
class Item:
    """One subscription fact observed at `at`; `ref` is the caller's (its ledger row).

    Once applied, `no_effect` says why the fact changed nothing, if it did.
    """

    fact: SubscriptionFact
    at: datetime
    ref: Any
    no_effect: NoEffect | None = None


def apply_subscriptions(items: list[Item]) -> tuple[list[Item], list[Item]]:
    """Apply the facts that can go together; return them, and the rest to apply one by one."""
    chosen, rest = _split(
        items, lambda i: i.fact.interval in MEMBERSHIP_INTERVALS and i.fact.customer_id
    )
    # A subscription's customer never changes, so this is also one fact per subscription.
    chosen, more = _distinct(chosen, lambda i: i.fact.customer_id)
    rest += more
    if not chosen:
        return [], rest
    supporters = _supporters(chosen)
    memberships = _memberships(chosen, supporters)
    # The person whose count moves is the membership's (an existing one may be another's).
    chosen, more = _distinct(chosen, lambda i: memberships[i.fact.id].user_id)
    rest += more
    people = {memberships[i.fact.id].user_id for i in chosen}
    _lock_people(people - {s.id for s in supporters.values()})
    _count_changes(chosen, memberships, people)
    link_waiting_payments([i.fact.id for i in chosen])
    db.session.flush()
    return chosen, rest


def _split(items: list[Item], keep: Callable[[Item], Any]) -> tuple[list[Item], list[Item]]:
    return [i for i in items if keep(i)], [i for i in items if not keep(i)]


def _distinct(items: list[Item], key: Callable[[Item], Hashable]) -> tuple[list[Item], list[Item]]:
    """The first item of each key, and the others."""
    seen: set[Hashable] = set()
    first, others = [], []
    for item in items:
        (others if key(item) in seen else first).append(item)
        seen.add(key(item))
    return first, others


def _supporters(items: list[Item]) -> dict[str, User]:
    """Each fact's person by its customer id, found or made by supporters.supporter_for's rule.

    Every row read here is locked (FOR UPDATE, in id order), as one by one locks each person.
    """
    user_ids = {i.fact.metadata.user_id for i in items} - {None}
    by_id = {u.id: u for u in _locked_users(User.id.in_(user_ids))} if user_ids else {}
    customers = [i.fact.customer_id for i in items]
    by_customer = {u.stripe_customer_id: u for u in _locked_users(_customer_in(customers))}
    found: dict[str, User] = {}
    for item in items:
        customer = item.fact.customer_id
        assert customer is not None
        # The one linking rule (supporters.claimed_by), with the owners read above.
        named = by_id.get(item.fact.metadata.user_id)  # type: ignore[arg-type]
        user = claimed_by(named, customer, by_customer.get)
        if user is not None and user.stripe_customer_id == customer:
            by_customer[customer] = user
        if user is not None or customer in by_customer:
            found[customer] = user or by_customer[customer]
    new = [c for c in customers if c not in found]
    insert_all_if_absent(
        User, "stripe_customer_id", [{"stripe_customer_id": c, "billing_email": None} for c in new]
    )
    if new:
        found.update((u.stripe_customer_id, u) for u in _locked_users(_customer_in(new)))
    db.session.flush()  # the links made above
    return found


def _customer_in(customers: list[str | None]) -> Any:
    return User.stripe_customer_id.in_(customers)


def _locked_users(where: Any) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(where)
            .order_by(User.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _lock_people(user_ids: Iterable[int]) -> None:
    ids = sorted(user_ids)
    if ids:
        db.session.execute(
            select(User.id).where(User.id.in_(ids)).order_by(User.id).with_for_update()
        )


def _memberships(items: list[Item], supporters: dict[str, User]) -> dict[str, Membership]:
    """Each fact's membership, made as a placeholder that is not a member where missing; locked."""
    placeholders = [
        {
            "stripe_subscription_id": i.fact.id,
            "user_id": supporters[i.fact.customer_id].id,  # type: ignore[index]
            "status": SubscriptionStatus.INCOMPLETE,
            "interval": i.fact.interval,
            "interval_count": i.fact.interval_count,
            "amount": i.fact.amount,
            "currency": i.fact.currency,
        }
        for i in items
    ]
    insert_all_if_absent(Membership, "stripe_subscription_id", placeholders)
    rows = db.session.scalars(
        select(Membership)
        .where(Membership.stripe_subscription_id.in_([i.fact.id for i in items]))
        .order_by(Membership.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {m.stripe_subscription_id: m for m in rows}


def _count_changes(items: list[Item], memberships: dict[str, Membership], people: set[int]) -> None:
    """Write each fact that takes effect; the counter, history and totals move once for all."""
    with counted_changes(people) as changes:
        for item in items:
            membership = memberships[item.fact.id]
            state = state_of(item.fact)
            item.no_effect = why_no_effect(membership, state, item.at)
            if item.no_effect is None:
                changes.note(membership, item.at)
                assign_state(membership, state, item.at)
