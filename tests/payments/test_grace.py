"""MEMBER_GRACE_DAYS: a past_due membership stops counting that many days after its period
end, even if Stripe leaves it past due; when a fact arrives, and as time passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from donations.config import ConfigError
from donations.membership.progress import get_progress, recount_members
from donations.membership.services import memberships_of
from donations.models import MemberChange, Membership
from tests.factories import make_user
from tests.payments.stripe_events import World, post_event

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world() -> World:
    """Facts a minute apart, from two days before NOW."""
    return World(start=int((NOW - 2 * DAY).timestamp()))


def _past_due(app, client, world, user, period_end: datetime, status: str = "past_due") -> None:
    sub = world.subscription(
        "sub_1", "cus_1", status, user_id=user.id, period_end=int(period_end.timestamp())
    )
    response = post_event(
        client,
        world.event("customer.subscription.updated", sub),
        app.config["STRIPE_WEBHOOK_SECRET"],
    )
    assert response.status_code == 200


def _members(db) -> int:
    db.session.expire_all()
    count = get_progress().members
    assert count == recount_members()  # the live counter always equals a recount
    return count


@pytest.mark.parametrize(("days_ago", "member"), [(20, True), (21, False), (40, False)])
def test_a_past_due_membership_counts_only_within_its_grace(
    app, client, db, world, clock, days_ago, member
):
    user = make_user()
    _past_due(app, client, world, user, NOW - days_ago * DAY)
    assert _members(db) == (1 if member else 0)
    membership = db.session.scalar(select(Membership))
    assert membership.grace_ends_at == NOW + (21 - days_ago) * DAY
    assert membership.is_member is member
    assert [m.is_member for m in memberships_of(user.id)] == [member]


def test_the_grace_runs_out_with_time_and_the_daily_job_counts_it(
    app, client, db, world, runner, clock
):
    _past_due(app, client, world, make_user(), NOW - 10 * DAY)
    assert _members(db) == 1
    clock.move_to(NOW + 10 * DAY)  # grace ends at NOW + 11 days
    assert runner.invoke(args=["members", "expire-grace"]).output.startswith("0 past-due")
    clock.move_to(NOW + 12 * DAY)
    result = runner.invoke(args=["members", "expire-grace"])
    assert result.exit_code == 0, result.output
    assert "1 past-due membership updated; 0 members." in result.output
    assert _members(db) == 0
    left = db.session.scalar(select(MemberChange).where(MemberChange.delta == -1))
    assert left.occurred_at == NOW + 11 * DAY  # when the grace ran out, not when noticed
    # A second run finds nothing more to do.
    assert runner.invoke(args=["members", "expire-grace"]).output.startswith("0 past-due")


def test_stripe_sync_ends_a_grace_too_but_not_in_a_dry_run(app, client, db, world, runner, clock):
    _past_due(app, client, world, make_user(), NOW - 10 * DAY)
    clock.move_to(NOW + 12 * DAY)
    dry = runner.invoke(args=["stripe", "sync", "--dry-run"])
    assert "grace_updated 1" in dry.output and _members(db) == 1
    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "grace_updated 1" in result.output
    assert _members(db) == 0


def test_a_membership_that_recovers_counts_again(app, client, db, world, clock):
    user = make_user()
    _past_due(app, client, world, user, NOW - 30 * DAY)
    assert _members(db) == 0
    _past_due(app, client, world, user, NOW + 30 * DAY, status="active")  # a newer fact: paid
    assert _members(db) == 1
    membership = db.session.scalar(select(Membership))
    assert (membership.grace_ends_at, membership.grace_expired) == (None, False)


def test_the_number_of_days_is_a_setting(make_app):
    app = make_app(MEMBER_GRACE_DAYS="3")
    with app.app_context(), time_machine.travel(NOW, tick=False):
        assert app.config["MEMBER_GRACE_DAYS"] == 3
        _past_due(app, app.test_client(), World(), make_user(), NOW - 4 * DAY)
        assert get_progress().members == 0 == recount_members()


@pytest.mark.parametrize("value", ["-1", "three"])
def test_a_bad_number_of_days_stops_start_up(make_app, value):
    with pytest.raises(ConfigError, match="MEMBER_GRACE_DAYS"):
        make_app(MEMBER_GRACE_DAYS=value)


def test_the_default_is_21_days(app):
    assert app.config["MEMBER_GRACE_DAYS"] == 21


def test_the_job_sets_cut_offs_the_migration_left_empty(app, client, db, world, runner, clock):
    _past_due(app, client, world, make_user(), NOW - 10 * DAY)
    membership = db.session.scalar(select(Membership))
    membership.grace_ends_at = None  # still counted, cut-off unknown: as after migration 0010
    db.session.commit()
    clock.move_to(NOW + 12 * DAY)
    result = runner.invoke(args=["members", "expire-grace"])
    assert "1 past-due membership updated; 0 members." in result.output
    assert _members(db) == 0
    assert db.session.scalar(select(Membership.grace_ends_at)) == NOW + 11 * DAY
