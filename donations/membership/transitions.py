"""The one place a membership changes state, and the member count moves with it.

Stripe's statuses map to ours one to one (design notes §2); what this module adds is the
rule for facts that arrive late or twice: the newest fact wins, terminal states stick, and
whenever a person starts or stops being a member, the live counter and the dated history
change in the same transaction, and so do the recurring totals behind the revenue figures.
"""

from __future__ import annotations

import calendar
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select

from donations.extensions import db
from donations.facts.subscription_state import SubscriptionState, footprint_fields
from donations.membership import notices, totals
from donations.membership.progress import move_counter
from donations.membership.services import members_among
from donations.models import (
    MemberChange,
    Membership,
    NoEffect,
    SubscriptionStatus,
    User,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class MembershipState(SubscriptionState):
    """Everything a subscription fact says about a membership."""

    status: SubscriptionStatus
    interval: str
    source_article: str | None = None
    # The state just before, when the fact's event had previous_attributes (`*.updated`).
    before: MembershipState | None = None


def footprint(record: Membership | MembershipState) -> str:
    """A membership's (or a fact's) state as one comparable string (stored: fact_before)."""
    parts = []
    for name in footprint_fields():
        value = getattr(record, name)
        if isinstance(value, datetime):
            value = int(value.timestamp())
        parts.append("" if value is None else str(value))
    return "|".join(parts)


def lock_person(user_id: int) -> None:
    """Serialise changes to one person's memberships (two subscriptions may change at once)."""
    db.session.scalar(select(User.id).where(User.id == user_id).with_for_update())


def _is_newer(membership: Membership, state: MembershipState, at: datetime) -> bool:
    if membership.fact_at is None:
        return True
    if at != membership.fact_at:
        return at > membership.fact_at
    # Facts of the same second: what the events say came before decides, when they say ...
    told = _told_order(membership, state)
    if told is not None:
        return told
    # ... else the one further along the subscription's life wins.
    return state.status.rank >= SubscriptionStatus(membership.status).rank


def _told_order(membership: Membership, state: MembershipState) -> bool | None:
    """Whether a same-second fact comes after the one we hold, by previous_attributes.

    A fact whose state before is our current state follows ours; a fact that is the state
    ours came from precedes it. None when neither or both hold (then the rank decides).
    """
    held, new = footprint(membership), footprint(state)
    if new == held:
        # The same state told twice: keep the telling that says what came before it.
        return state.before is not None
    follows = state.before is not None and footprint(state.before) == held
    precedes = membership.fact_before == new
    return follows if follows != precedes else None


def apply_state(membership: Membership, state: MembershipState, at: datetime) -> NoEffect | None:
    """Apply a fact observed at `at` to a locked membership; why it changed nothing, if so.

    The caller has locked the person (lock_person) and the membership row.
    """
    no_effect = why_no_effect(membership, state, at)
    if no_effect is None:
        with counted_change(membership, at):
            assign_state(membership, state, at)
    return no_effect


def why_no_effect(membership: Membership, state: MembershipState, at: datetime) -> NoEffect | None:
    """Why a fact observed at `at` leaves the membership alone: terminal sticks, newest wins.

    None when it takes effect.
    """
    ended = SubscriptionStatus(membership.status).is_terminal and membership.fact_at is not None
    if ended and state.status != membership.status:
        log.info("ignoring %s for %s: it already ended", state.status, membership)
        return NoEffect.TERMINAL
    if not _is_newer(membership, state, at):
        log.info("ignoring an older fact (%s) for %s", at.isoformat(), membership)
        return NoEffect.OLDER
    return None


def assign_state(membership: Membership, state: MembershipState, at: datetime) -> None:
    """Write a fact that takes effect into the membership; the caller counts the change."""
    since = _past_due_since(membership, state, at)
    state.write_to(membership)
    if state.source_article:
        membership.source_article = state.source_article
    membership.past_due_since = since
    membership.fact_at = at
    membership.fact_before = footprint(state.before) if state.before else None
    membership.grace_ends_at, membership.grace_expired = grace_window(state.status, since, utcnow())


def _past_due_since(
    membership: Membership, state: MembershipState, at: datetime
) -> datetime | None:
    """When the last paid period ended, for a membership the fact leaves past_due.

    Stripe opens the next period before it charges for it, so when a renewal fails the current
    period is the unpaid one and its start is the end of the last paid period (the fact's time
    when Stripe names no period). Later past_due facts may move the period on again: the date
    set when the membership became past_due stays.
    """
    if state.status != SubscriptionStatus.PAST_DUE:
        return None
    if membership.status == SubscriptionStatus.PAST_DUE and membership.fact_at is not None:
        kept = membership.past_due_since or estimated_past_due_since(membership)
        if kept is not None:
            return kept
    return state.current_period_start or at


def estimated_past_due_since(membership: Membership) -> datetime | None:
    """For a past_due membership recorded before past_due_since was (migration 0011).

    Its current period is the unpaid one, so the last paid one ended a billing period before
    its end; with no period known, the last fact's time.
    """
    end = membership.current_period_end
    if end is None:
        return membership.fact_at
    months = membership.interval_count * (12 if membership.interval == "year" else 1)
    year, month = divmod(end.year * 12 + end.month - 1 - months, 12)
    day = min(end.day, calendar.monthrange(year, month + 1)[1])
    return end.replace(year=year, month=month + 1, day=day)


def grace_window(
    status: str, past_due_since: datetime | None, now: datetime
) -> tuple[datetime | None, bool]:
    """When a past_due membership's grace ends, and whether it has (design notes §2, §4).

    Stripe may leave a subscription past due for good, moving its period on; it stops counting
    MEMBER_GRACE_DAYS after its last paid period ended (past_due_since), whatever Stripe's
    current period says.
    """
    if status != SubscriptionStatus.PAST_DUE or past_due_since is None:
        return None, False
    ends = past_due_since + timedelta(days=current_app.config["MEMBER_GRACE_DAYS"])
    return ends, ends <= now


class CountedChanges:
    """The memberships changed inside one counted_changes block, as they were before."""

    def __init__(self, members_before: set[int]) -> None:
        self.members_before = members_before
        self.changed: list[tuple[Membership, datetime, totals.Key | None]] = []

    def note(self, membership: Membership, at: datetime) -> None:
        """Say that this membership is about to change, by a fact observed at `at`."""
        self.changed.append((membership, at, totals.billing_key(membership)))


@contextmanager
def counted_changes(people: Iterable[int]) -> Iterator[CountedChanges]:
    """Change locked memberships of these people inside; the counter, history and totals follow.

    The one counting rule, for one membership (counted_change) and for a batch alike: each
    membership noted before it changes moves the recurring totals, and each person who starts
    or stops being a member moves the counter and gets a dated MemberChange. The caller has
    locked the people (lock_person) and the membership rows; a person has one change here.
    The mails a membership's new state calls for (notices) are queued here too, once for both.
    """
    changes = CountedChanges(members_among(set(people)))
    yield changes
    if not changes.changed:
        return
    db.session.flush()
    moved: Counter[totals.Key] = Counter()
    for membership, _, before in changes.changed:
        moved.update(totals.moves(before, totals.billing_key(membership)))
    totals.move_all(moved)
    notices.notice_changes(m for m, _, _ in changes.changed)
    members_after = members_among({m.user_id for m, _, _ in changes.changed})
    rows = [
        {
            "user_id": membership.user_id,
            "membership_id": membership.id,
            "delta": +1 if membership.user_id in members_after else -1,
            "occurred_at": at,
        }
        for membership, at, _ in changes.changed
        if (membership.user_id in changes.members_before) != (membership.user_id in members_after)
    ]
    if rows:
        # One executemany (the ORM would insert them one at a time to read back their ids).
        db.session.execute(insert(MemberChange), rows)
        move_counter(sum(row["delta"] for row in rows))


@contextmanager
def counted_change(membership: Membership, at: datetime) -> Iterator[None]:
    """Change one locked membership inside; the counter, history and totals follow it."""
    with counted_changes([membership.user_id]) as changes:
        changes.note(membership, at)
        yield


def record_member_change(user_id: int, membership_id: int | None, delta: int, at: datetime) -> None:
    """Move the live counter and write the dated fact, in the caller's transaction."""
    move_counter(delta)
    db.session.add(
        MemberChange(user_id=user_id, membership_id=membership_id, delta=delta, occurred_at=at)
    )
    db.session.flush()
