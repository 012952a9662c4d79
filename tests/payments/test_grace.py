"""MEMBER_GRACE_DAYS: a past_due membership stops counting that many days after its last paid
period ended, even if Stripe leaves it past due; when a fact arrives, and as time passes.

Stripe opens the next period before it charges for it, so a past_due subscription's current
period is the unpaid one: the paid one ended at its start (and Stripe may move it on again).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe
import time_machine
from sqlalchemy import select

from donations.config import ConfigError
from donations.membership.grace import recheck_grace
from donations.membership.progress import get_progress, recount_members
from donations.membership.services import memberships_of
from donations.models import MemberChange, Membership
from donations.payments.account import WEBHOOK_EVENTS
from stripe_emulator import Emulator
from tests.factories import make_user
from tests.payments.layouts import OLD_API_VERSION, old_subscription
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


def _past_due(
    app,
    client,
    world,
    user,
    paid_until: datetime,
    status: str = "past_due",
    *,
    period_days: int = 30,
    old_layout: bool = False,
) -> dict[str, Any]:
    """A subscription fact: the paid period ended `paid_until`, the current one (unpaid when
    past_due) runs from then for `period_days`, as Stripe opens it before charging for it."""
    sub = world.subscription(
        "sub_1",
        "cus_1",
        status,
        user_id=user.id,
        period_start=int(paid_until.timestamp()),
        period_end=int((paid_until + period_days * DAY).timestamp()),
    )
    if old_layout:
        sub = old_subscription(sub)
    event = world.event("customer.subscription.updated", sub)
    response = post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.status_code == 200
    return event


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
    assert membership.past_due_since == NOW - days_ago * DAY
    assert membership.current_period_end == NOW + (30 - days_ago) * DAY  # not the grace's start
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
    _past_due(app, client, world, user, NOW, status="active")  # a newer fact: paid
    assert _members(db) == 1
    membership = db.session.scalar(select(Membership))
    assert (membership.past_due_since, membership.grace_ends_at) == (None, None)
    assert membership.grace_expired is False
    # Past due again a period later: a new grace, from the end of the period just paid.
    _past_due(app, client, world, user, NOW + 30 * DAY)
    assert _members(db) == 1
    assert db.session.scalar(select(Membership.past_due_since)) == NOW + 30 * DAY


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
    # Still counted, cut-off and paid period unknown: as after migrations 0010 and 0011.
    membership.grace_ends_at = membership.past_due_since = None
    db.session.commit()
    clock.move_to(NOW + 12 * DAY)
    result = runner.invoke(args=["members", "expire-grace"])
    assert "1 past-due membership updated; 0 members." in result.output
    assert _members(db) == 0
    assert db.session.scalar(select(Membership.grace_ends_at)) == NOW + 11 * DAY
    # Estimated from the unpaid period's end, one billing period back.
    assert db.session.scalar(select(Membership.past_due_since)) == NOW - 10 * DAY


@pytest.mark.parametrize("old_layout", [False, True], ids=["current", "pre-2025"])
def test_a_later_past_due_fact_with_a_moved_period_does_not_extend_the_grace(
    app, client, db, world, runner, clock, old_layout
):
    """Left past due, Stripe moves the period on (again and again): the grace stays put."""
    user = make_user()
    _past_due(app, client, world, user, NOW - 10 * DAY, old_layout=old_layout)
    _past_due(app, client, world, user, NOW + 20 * DAY, old_layout=old_layout)
    membership = db.session.scalar(select(Membership))
    assert membership.current_period_end == NOW + 50 * DAY
    assert membership.past_due_since == NOW - 10 * DAY
    assert membership.grace_ends_at == NOW + 11 * DAY
    assert _members(db) == 1
    clock.move_to(NOW + 12 * DAY)
    result = runner.invoke(args=["members", "expire-grace"])
    assert "1 past-due membership updated; 0 members." in result.output
    assert _members(db) == 0
    # And a yet later one, after the grace ran out, does not bring it back.
    _past_due(app, client, world, user, NOW + 50 * DAY, old_layout=old_layout)
    assert _members(db) == 0
    assert db.session.scalar(select(Membership.past_due_since)) == NOW - 10 * DAY


@pytest.mark.parametrize("old_layout", [False, True], ids=["current", "pre-2025"])
def test_a_yearly_grace_counts_from_the_paid_period_end_in_either_layout(
    app, client, db, world, clock, old_layout
):
    """Stripe's period end is a year after the failed renewal; the grace is 21 days."""
    user = make_user()
    _past_due(app, client, world, user, NOW - 22 * DAY, period_days=365, old_layout=old_layout)
    membership = db.session.scalar(select(Membership))
    assert membership.current_period_end == NOW + 343 * DAY
    assert membership.grace_ends_at == NOW - DAY
    assert _members(db) == 0


def test_with_no_period_start_the_grace_counts_from_the_fact(app, client, db, world, clock):
    sub = world.subscription("sub_1", "cus_1", "past_due", user_id=make_user().id)
    del sub["items"]["data"][0]["current_period_start"]
    event = world.event("customer.subscription.updated", sub)
    assert post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"]).status_code == 200
    fact_at = datetime.fromtimestamp(event["created"], UTC)
    assert db.session.scalar(select(Membership.past_due_since)) == fact_at
    assert db.session.scalar(select(Membership.grace_ends_at)) == fact_at + 21 * DAY


def test_the_daily_job_applies_a_changed_number_of_days(app, client, db, world, clock):
    _past_due(app, client, world, make_user(), NOW - 10 * DAY)
    assert _members(db) == 1
    app.config["MEMBER_GRACE_DAYS"] = 5
    assert recheck_grace(NOW) == 1
    db.session.commit()
    assert _members(db) == 0
    assert db.session.scalar(select(Membership.grace_ends_at)) == NOW - 5 * DAY


# --- through the emulator: Stripe's own order of period and charge -------------------------


def _yearly_member(emulator: Emulator) -> str:
    """Pay a yearly membership through Checkout; return the subscription id."""
    sdk = stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client)
    checkout = sdk.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 9600,
                        "product_data": {"name": "Membership"},
                        "recurring": {"interval": "year"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "http://localhost/support/thanks?session_id={CHECKOUT_SESSION_ID}",
            "customer_email": "member@example.org",
        }
    )
    emulator.pay_checkout(checkout.id, "4242424242424242")
    return str(emulator.get(checkout.id)["subscription"])  # type: ignore[index]


def _use_an_old_version_endpoint(emulator: Emulator) -> None:
    sdk = stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client)
    for endpoint in emulator.list_objects("webhook_endpoint"):
        if endpoint["url"] == "http://localhost/stripe/webhook":
            sdk.v1.webhook_endpoints.update(endpoint["id"], params={"disabled": True})
    sdk.v1.webhook_endpoints.create(
        params={
            "url": "http://localhost/stripe/webhook",
            "enabled_events": list(WEBHOOK_EVENTS),
            "api_version": OLD_API_VERSION,
        }
    )


@pytest.mark.parametrize("old_layout", [False, True], ids=["current", "pre-2025"])
def test_a_yearly_member_left_past_due_stops_counting_grace_days_after_the_paid_year(
    app, db, emulator: Emulator, runner, old_layout
):
    if old_layout:
        _use_an_old_version_endpoint(emulator)
    sub_id = _yearly_member(emulator)
    emulator.deliver_pending()
    paid_until = datetime.fromtimestamp(
        emulator.get(sub_id)["items"]["data"][0]["current_period_end"],
        UTC,  # type: ignore[index]
    )
    assert _members(db) == 1
    # The renewal fails and fails again; the account leaves the subscription past due.
    emulator.renew(sub_id, fail=True, retries=2, final_status="past_due")
    emulator.deliver_pending()
    sub = emulator.get(sub_id)
    assert sub["status"] == "past_due"  # type: ignore[index]
    unpaid_end = datetime.fromtimestamp(
        sub["items"]["data"][0]["current_period_end"],
        UTC,  # type: ignore[index]
    )
    assert unpaid_end > paid_until + 300 * DAY  # Stripe's period: the unpaid year
    membership = db.session.scalar(select(Membership))
    assert membership.status == "past_due"
    assert membership.current_period_end == unpaid_end
    assert membership.past_due_since == paid_until
    assert _members(db) == 1  # in its grace
    with time_machine.travel(paid_until + 20 * DAY, tick=False):
        assert runner.invoke(args=["members", "expire-grace"]).exit_code == 0
    assert _members(db) == 1
    with time_machine.travel(paid_until + 21 * DAY + timedelta(seconds=1), tick=False):
        result = runner.invoke(args=["members", "expire-grace"])
    assert "1 past-due membership updated; 0 members." in result.output, result.output
    assert _members(db) == 0
    left = db.session.scalar(select(MemberChange).where(MemberChange.delta == -1))
    assert left.occurred_at == paid_until + 21 * DAY
