"""POST /stripe/webhook: signatures, the ledger, and each event type's effect on our records."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from donations.membership.progress import get_progress, recount_members
from donations.models import (
    CheckoutAttempt,
    Donation,
    FailedPayment,
    MemberChange,
    Membership,
    PaymentAdjustment,
    StripeEvent,
    User,
)
from tests.factories import make_user
from tests.payments.stripe_events import PERIOD_END, post_event, signature_header


@pytest.fixture
def secret(app) -> str:
    return app.config["STRIPE_WEBHOOK_SECRET"]


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _send(client, secret, event, status=200):
    response = post_event(client, event, secret)
    assert response.status_code == status, response.get_data(as_text=True)
    return response


# --- refusals: 400 and no trace ----------------------------------------------------------


def test_bad_signature_is_refused_and_nothing_is_stored(client, db, world):
    event = world.event(
        "customer.subscription.created", world.subscription("sub_1", "cus_1", "active")
    )
    response = post_event(client, event, "whsec_someone_else")
    assert response.status_code == 400
    assert response.json["error"].startswith("bad signature")
    assert _count(db, StripeEvent) == 0 and _count(db, Membership) == 0


def test_missing_signature_header_is_refused(client, db, world):
    event = world.event(
        "customer.subscription.created", world.subscription("sub_1", "cus_1", "active")
    )
    response = client.post(
        "/stripe/webhook", data=json.dumps(event), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["error"] == "missing Stripe-Signature header"
    assert _count(db, StripeEvent) == 0


def test_stale_timestamp_is_refused(client, db, world, secret):
    event = world.event(
        "customer.subscription.created", world.subscription("sub_1", "cus_1", "active")
    )
    response = post_event(client, event, secret, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert _count(db, StripeEvent) == 0


def test_tampered_body_is_refused(client, db, world, secret):
    event = world.event(
        "customer.subscription.created", world.subscription("sub_1", "cus_1", "active")
    )
    payload = json.dumps(event)
    header = signature_header(payload, secret)
    response = client.post(
        "/stripe/webhook",
        data=payload.replace("active", "trialing"),
        headers={"Stripe-Signature": header},
    )
    assert response.status_code == 400
    assert _count(db, StripeEvent) == 0


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '{"id": "evt_1"}'])
def test_malformed_json_is_refused(client, db, secret, body):
    response = client.post(
        "/stripe/webhook", data=body, headers={"Stripe-Signature": signature_header(body, secret)}
    )
    assert response.status_code == 400
    assert "error" in response.json
    assert _count(db, StripeEvent) == 0


# --- the ledger ----------------------------------------------------------------------------


def test_unknown_event_type_is_stored_as_ignored(client, db, world, secret):
    response = _send(
        client, secret, world.event("plan.created", {"id": "plan_1", "object": "plan"})
    )
    assert response.json["status"] == "ignored"
    row = db.session.scalar(select(StripeEvent))
    assert (row.type, row.status, row.attempts) == ("plan.created", "ignored", 1)


def test_event_from_the_other_mode_is_stored_as_ignored_and_logged(
    client, db, world, secret, caplog
):
    sub = world.subscription("sub_1", "cus_1", "active")
    response = _send(
        client, secret, world.event("customer.subscription.created", sub, livemode=True)
    )
    assert response.json["status"] == "ignored"
    row = db.session.scalar(select(StripeEvent))
    assert (row.status, row.livemode, row.error) == (
        "ignored",
        True,
        "livemode does not match this site",
    )
    assert _count(db, Membership) == 0
    assert "livemode=True" in caplog.text


def test_ledger_keeps_the_raw_payload_and_envelope(client, db, world, secret):
    event = world.event(
        "customer.subscription.created", world.subscription("sub_1", "cus_1", "active")
    )
    _send(client, secret, event)
    row = db.session.scalar(select(StripeEvent))
    assert json.loads(row.payload) == event
    assert row.stripe_event_id == event["id"] and row.object_id == "sub_1"
    assert row.customer_id == "cus_1" and row.status == "processed"
    assert row.created.timestamp() == event["created"] and row.received_at.tzinfo is not None


def test_duplicate_event_has_one_effect(client, db, world, secret):
    user = make_user()
    event = world.event(
        "customer.subscription.created",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    first = _send(client, secret, event)
    second = _send(client, secret, event)
    assert first.json["duplicate"] is False and second.json["duplicate"] is True
    assert _count(db, StripeEvent) == 1 and _count(db, Membership) == 1
    assert _count(db, MemberChange) == 1
    assert get_progress().members == 1


def test_failing_handler_answers_500_keeps_the_event_and_replay_fixes_it(
    client, db, world, secret, runner, monkeypatch
):
    user = make_user()
    event = world.event(
        "customer.subscription.created",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    from donations.membership import records
    from donations.payments import ledger

    def broken(fact, at):
        records.apply_subscription(fact, at)  # its effects must be rolled back
        raise RuntimeError("database hiccup")

    with monkeypatch.context() as patch:
        patch.setitem(ledger.HANDLERS, "customer.subscription.created", broken)
        response = post_event(client, event, secret)
    assert response.status_code == 500
    row = db.session.scalar(select(StripeEvent))
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error == "RuntimeError: database hiccup"
    assert _count(db, Membership) == 0 and get_progress().members == 0

    result = runner.invoke(args=["stripe", "replay", event["id"]])
    assert result.exit_code == 0, result.output
    assert f"{event['id']}: processed" in result.output
    db.session.expire_all()
    row = db.session.scalar(select(StripeEvent))
    assert (row.status, row.attempts, row.error) == ("processed", 2, None)
    assert _count(db, Membership) == 1 and get_progress().members == 1


def test_stripe_retry_of_a_failed_event_processes_it(client, db, world, secret, monkeypatch):
    user = make_user()
    event = world.event(
        "customer.subscription.created",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    from donations.payments import ledger

    def broken(fact, at):
        raise RuntimeError("temporarily broken")

    with monkeypatch.context() as patch:
        patch.setitem(ledger.HANDLERS, "customer.subscription.created", broken)
        assert post_event(client, event, secret).status_code == 500
    assert post_event(client, event, secret).status_code == 200
    assert _count(db, Membership) == 1 and _count(db, StripeEvent) == 1


def test_replay_of_an_unknown_event_is_a_clear_error(runner, db):
    result = runner.invoke(args=["stripe", "replay", "evt_nope"])
    assert result.exit_code != 0
    assert "no stored event evt_nope" in result.output


# --- each event type -----------------------------------------------------------------------


def test_subscription_lifecycle_moves_the_count(client, db, world, secret):
    user = make_user()
    sub = lambda status, **kw: world.subscription("sub_1", "cus_1", status, user_id=user.id, **kw)  # noqa: E731
    _send(client, secret, world.event("customer.subscription.created", sub("incomplete")))
    assert get_progress().members == 0
    _send(
        client, secret, world.event("customer.subscription.updated", sub("active", article="a-1"))
    )
    assert get_progress().members == 1
    _send(client, secret, world.event("customer.subscription.updated", sub("past_due")))
    assert get_progress().members == 1  # grace period while Stripe retries the card
    _send(
        client,
        secret,
        world.event("customer.subscription.updated", sub("active", cancel_at_period_end=True)),
    )
    membership = db.session.scalar(select(Membership))
    assert membership.cancel_at_period_end is True and get_progress().members == 1
    _send(client, secret, world.event("customer.subscription.deleted", sub("canceled")))
    db.session.refresh(membership)
    assert membership.status == "canceled" and membership.ended_at is not None
    assert membership.source_article == "a-1"
    assert get_progress().members == 0 == recount_members()
    assert membership.current_period_end.timestamp() == PERIOD_END
    deltas = db.session.scalars(select(MemberChange.delta).order_by(MemberChange.id)).all()
    assert deltas == [1, -1]


def test_canceled_is_terminal_and_older_facts_lose(client, db, world, secret):
    user = make_user()
    early = world.event(
        "customer.subscription.updated",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    deleted = world.event(
        "customer.subscription.deleted",
        world.subscription("sub_1", "cus_1", "canceled", user_id=user.id),
    )
    later_active = world.event(
        "customer.subscription.updated",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    _send(client, secret, deleted)
    _send(client, secret, early)  # older: must not revive it
    _send(client, secret, later_active)  # newer, but canceled is terminal
    assert db.session.scalar(select(Membership.status)) == "canceled"
    assert get_progress().members == 0


def test_two_memberships_count_one_person_once(client, db, world, secret):
    user = make_user()
    for sub_id, currency in (("sub_a", "usd"), ("sub_b", "eur")):
        _send(
            client,
            secret,
            world.event(
                "customer.subscription.created",
                world.subscription(sub_id, "cus_1", "active", user_id=user.id, currency=currency),
            ),
        )
    assert _count(db, Membership) == 2 and get_progress().members == 1
    _send(
        client,
        secret,
        world.event(
            "customer.subscription.deleted",
            world.subscription("sub_a", "cus_1", "canceled", user_id=user.id),
        ),
    )
    assert get_progress().members == 1
    _send(
        client,
        secret,
        world.event(
            "customer.subscription.deleted",
            world.subscription("sub_b", "cus_1", "canceled", user_id=user.id, currency="eur"),
        ),
    )
    assert get_progress().members == 0 == recount_members()


def test_subscription_of_an_unknown_customer_creates_a_supporter(client, db, world, secret):
    _send(
        client,
        secret,
        world.event(
            "customer.subscription.created", world.subscription("sub_1", "cus_new", "active")
        ),
    )
    supporter = db.session.scalar(select(User).where(User.stripe_customer_id == "cus_new"))
    assert supporter is not None and not supporter.has_login
    assert db.session.scalar(select(Membership.user_id)) == supporter.id
    assert get_progress().members == 1


def test_link_is_never_made_by_email_alone(client, db, world, secret):
    make_user(email="giver@example.org")
    _send(
        client,
        secret,
        world.event(
            "checkout.session.completed",
            world.checkout(
                "cs_1", customer="cus_9", payment_intent="pi_1", email="giver@example.org"
            ),
        ),
    )
    donation = db.session.scalar(select(Donation))
    owner = db.session.get(User, donation.user_id)
    assert owner.stripe_customer_id == "cus_9" and owner.email is None


def test_checkout_links_the_account_by_client_reference_id(client, db, world, secret):
    user = make_user()
    _send(
        client,
        secret,
        world.event(
            "checkout.session.completed",
            world.checkout(
                "cs_1",
                mode="subscription",
                customer="cus_7",
                subscription="sub_7",
                user_id=user.id,
                amount=800,
            ),
        ),
    )
    db.session.refresh(user)
    assert user.stripe_customer_id == "cus_7"
    attempt = db.session.scalar(select(CheckoutAttempt))
    assert (attempt.status, attempt.interval, attempt.user_id) == ("complete", "month", user.id)


def test_unpaid_checkout_waits_for_the_async_payment(client, db, world, secret):
    unpaid = world.checkout("cs_1", customer="cus_1", payment_intent="pi_1", paid=False)
    _send(client, secret, world.event("checkout.session.completed", unpaid))
    assert _count(db, Donation) == 0
    assert db.session.scalar(select(CheckoutAttempt.status)) == "open"
    _send(
        client,
        secret,
        world.event(
            "checkout.session.async_payment_succeeded",
            world.checkout("cs_1", customer="cus_1", payment_intent="pi_1"),
        ),
    )
    assert _count(db, Donation) == 1
    assert db.session.scalar(select(CheckoutAttempt.status)) == "complete"


def test_async_payment_failure_marks_the_attempt_failed(client, db, world, secret):
    unpaid = world.checkout("cs_1", customer="cus_1", payment_intent="pi_1", paid=False)
    _send(client, secret, world.event("checkout.session.completed", unpaid))
    _send(client, secret, world.event("checkout.session.async_payment_failed", unpaid))
    assert db.session.scalar(select(CheckoutAttempt.status)) == "failed"
    assert _count(db, Donation) == 0


def test_gift_from_checkout_and_charge_is_one_donation(client, db, world, secret):
    _send(
        client,
        secret,
        world.event(
            "charge.succeeded", world.charge("ch_1", "pi_1", amount=1061, customer="cus_1", fee=61)
        ),
    )
    _send(
        client,
        secret,
        world.event(
            "checkout.session.completed",
            world.checkout(
                "cs_1", customer="cus_1", payment_intent="pi_1", amount=1061, fee=61, article="x-y"
            ),
        ),
    )
    donation = db.session.scalar(select(Donation))
    assert _count(db, Donation) == 1
    assert (donation.kind, donation.amount, donation.fee_amount) == ("gift", 1061, 61)
    assert donation.stripe_checkout_session_id == "cs_1" and donation.source_article == "x-y"


def test_failed_renewal_is_visible_to_staff(client, db, world, secret):
    failed = world.invoice("in_3", "sub_1", "cus_1", paid=False, attempt_count=2)
    _send(client, secret, world.event("invoice.payment_failed", failed))
    row = db.session.scalar(select(FailedPayment))
    assert (row.stripe_subscription_id, row.amount, row.attempt_count) == ("sub_1", 800, 2)
    assert _count(db, Donation) == 0


def test_refunds_full_and_partial_reduce_the_donation(client, db, world, secret):
    _send(
        client,
        secret,
        world.event(
            "checkout.session.completed",
            world.checkout("cs_1", customer="cus_1", payment_intent="pi_1", amount=5000),
        ),
    )
    _send(
        client,
        secret,
        world.event("charge.refunded", world.charge("ch_1", "pi_1", amount=5000, refunded=1500)),
    )
    donation = db.session.scalar(select(Donation))
    assert (donation.amount_refunded, donation.net_amount) == (1500, 3500)
    _send(
        client,
        secret,
        world.event("charge.refunded", world.charge("ch_1", "pi_1", amount=5000, refunded=5000)),
    )
    db.session.expire_all()
    assert db.session.scalar(select(Donation)).net_amount == 0


def test_disputes_mark_the_payment_and_closed_outcomes_stick(client, db, world, secret):
    _send(
        client,
        secret,
        world.event(
            "checkout.session.completed",
            world.checkout("cs_1", customer="cus_1", payment_intent="pi_1"),
        ),
    )
    created = world.event(
        "charge.dispute.created", world.dispute("dp_1", "ch_1", "pi_1", "needs_response")
    )
    closed = world.event("charge.dispute.closed", world.dispute("dp_1", "ch_1", "pi_1", "lost"))
    _send(client, secret, closed)
    _send(client, secret, created)  # arrives late: must not reopen it
    adjustment = db.session.scalar(select(PaymentAdjustment))
    assert (adjustment.disputed, adjustment.dispute_status) == (True, "lost")
    assert db.session.scalar(select(Donation)).disputed is True
