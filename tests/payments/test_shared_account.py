"""STRIPE_ACCOUNT_SHARED: on an account that sells other things, only what we sold counts.

The newsroom's Stripe account also takes Payment Link payments (a Checkout Session in payment
mode that no one here made: docs.stripe.com/payment-links, "each payment link creates a
Checkout Session") and subscriptions made by hand in the Dashboard. Neither carries this
site's tag. Everything here goes through the emulator, the real SDK and real signed webhooks.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from donations.extensions import db
from donations.membership.progress import get_progress
from donations.models import (
    Adoption,
    Donation,
    ForeignObject,
    Membership,
    StripeEvent,
    utcnow,
)
from donations.payments.account import WEBHOOK_EVENTS
from donations.payments.queue import work
from donations.staff import stats
from stripe_emulator import Emulator
from stripe_emulator.events import payload_for
from tests.factories import CHAOS_SEEDS, chaos, login, make_user, pay_membership
from tests.payments.stripe_events import signature_header

SHARED = {"STRIPE_ACCOUNT_SHARED": "1"}
DEDICATED = {"STRIPE_ACCOUNT_SHARED": "0"}
CARD = "4242424242424242"
LINK_AMOUNT = 4_500  # a ticket sold through a Payment Link
SHOP_MONTHLY = 1_500  # a subscription box set up in the Dashboard
OUR_MONTHLY = 800  # a member who joined through this site


@pytest.fixture
def delivery() -> dict[str, Any]:
    """A shared account, unless a test says otherwise."""
    return dict(SHARED)


def _sdk(emulator: Emulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client)


def payment_link_payment(emulator: Emulator, amount: int = LINK_AMOUNT) -> dict[str, Any]:
    """A paid Checkout Session in payment mode without our tag, as a Payment Link makes."""
    session = _sdk(emulator).v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": amount,
                        "product_data": {"name": "Festival ticket"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "https://shop.example.org/thanks",
        }
    )
    emulator.pay_checkout(session.id, CARD, email="ticket@example.org")
    paid = emulator.get(session.id)
    assert paid is not None
    return paid


def dashboard_subscription(emulator: Emulator) -> dict[str, Any]:
    """A monthly subscription made by hand in the Dashboard for a customer made there too."""
    customer = _sdk(emulator).v1.customers.create(
        params={"email": "box@example.org", "name": "Box Buyer"}
    )
    return emulator.create_subscription(
        customer.id,
        amount=SHOP_MONTHLY,
        currency="usd",
        interval="month",
        card_number=CARD,
        product_name="Coffee box",
    )


def our_member_joins(app, emulator: Emulator, email: str = "member@example.org") -> str:
    """A reader becomes a member through this site's own form (own browser); the subscription."""
    client = app.test_client()
    login(client, make_user(email=email))
    session_id = pay_membership(client, emulator, amount=str(OUR_MONTHLY // 100), deliver=False)
    session = emulator.get(session_id)
    assert session is not None
    return session["subscription"]


def figures() -> tuple[Any, ...]:
    """Every number staff read: members, MRR, gifts and membership payments (with counts)."""
    db.session.expire_all()
    board = stats.dashboard(utcnow())
    return (
        get_progress(fresh=True).members,
        sorted((r.currency, r.monthly, r.memberships) for r in board.revenue.mrr),
        sorted((g.currency, g.count, g.gross) for g in board.gifts),
        sorted((g.currency, g.count, g.gross) for g in board.membership_payments),
    )


def statuses_of(*object_ids: str) -> set[str]:
    """Ledger statuses of handled events about these objects (or owned by them)."""
    rows = db.session.scalars(
        select(StripeEvent.status).where(
            (StripeEvent.object_id.in_(object_ids)) | (StripeEvent.owner_key.in_(object_ids)),
            StripeEvent.status != "ignored",
        )
    )
    return set(rows)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- must hold 2 ---------------------------------------------------------------------------


def test_a_payment_link_payment_and_a_dashboard_subscription_count_nowhere(
    app, db, emulator: Emulator, staff_client
):
    our_member_joins(app, emulator)
    emulator.deliver_pending()
    ours = figures()
    assert ours[0] == 1

    link = payment_link_payment(emulator)
    sub = dashboard_subscription(emulator)
    emulator.renew(sub["id"])  # a second month of the box: still not ours
    emulator.refund(emulator.list_objects("charge")[0]["id"], 500)  # the newest: a box charge
    emulator.deliver_pending()

    assert figures() == ours
    assert statuses_of(link["payment_intent"], sub["id"]) == {"foreign"}
    assert _count(Donation, Donation.stripe_payment_intent_id == link["payment_intent"]) == 0
    assert _count(Membership, Membership.stripe_subscription_id == sub["id"]) == 0
    listed = {(f.kind, f.stripe_id, f.amount) for f in db.session.scalars(select(ForeignObject))}
    assert listed == {
        ("payment", link["payment_intent"], LINK_AMOUNT),
        ("subscription", sub["id"], SHOP_MONTHLY),
    }
    page = staff_client.get("/staff/foreign")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert link["payment_intent"] in text and sub["id"] in text and "$45" in text
    assert staff_client.get("/staff/").status_code == 200


def test_after_adoption_the_subscription_counts_once_also_after_replays(
    app, client, db, emulator: Emulator, staff_client, runner
):
    payment_link_payment(emulator)
    sub = dashboard_subscription(emulator)
    emulator.deliver_pending()
    before = figures()
    assert before[0] == 0

    confirm = staff_client.get(f"/staff/foreign/{sub['id']}/adopt")
    assert confirm.status_code == 200 and "Adopt subscription" in confirm.get_data(as_text=True)
    response = staff_client.post(f"/staff/foreign/{sub['id']}/adopt")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/foreign")

    adopted = figures()
    assert adopted[0] == 1
    assert adopted[1] == [("usd", SHOP_MONTHLY, 1)]
    assert adopted[2] == before[2] == []  # the Payment Link payment is still nobody's gift
    assert adopted[3] == [("usd", 1, SHOP_MONTHLY)]
    adoption = db.session.scalar(select(Adoption))
    assert (adoption.stripe_object_id, adoption.adopted_by_email) == (
        sub["id"],
        "editor@example.org",
    )
    assert adoption.events_applied >= 4  # subscription, invoice, invoice payment, charge
    assert "foreign" not in statuses_of(sub["id"])
    assert db.session.scalar(select(Donation.stripe_payment_intent_id)) is not None

    # Replays of every stored event, Stripe's own redeliveries and a second adoption: no change.
    for event_id in db.session.scalars(select(StripeEvent.stripe_event_id)).all():
        assert runner.invoke(args=["stripe", "replay", event_id]).exit_code == 0
    for event in emulator.events():
        if event["type"] in WEBHOOK_EVENTS:
            emulator.resend(event["id"])
    emulator.deliver_pending()
    assert staff_client.post(f"/staff/foreign/{sub['id']}/adopt").status_code == 404
    assert figures() == adopted

    # It is ours from now on: its renewal counts, and `stripe sync` agrees.
    emulator.renew(sub["id"])
    emulator.deliver_pending()
    renewed = figures()
    assert renewed[0] == 1 and renewed[3] == [("usd", 2, 2 * SHOP_MONTHLY)]
    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "foreign" in result.output
    assert figures() == renewed


def test_a_refund_and_a_lost_dispute_of_a_foreign_charge_are_foreign_too(db, emulator):
    link = payment_link_payment(emulator)
    emulator.deliver_pending()
    before = figures()
    charge = emulator.list_objects("charge")[0]["id"]
    emulator.refund(charge, 1_000)
    emulator.dispute(charge, close_as="lost")
    emulator.deliver_pending()
    assert figures() == before
    held = db.session.execute(
        select(StripeEvent.type, StripeEvent.owner_key).where(StripeEvent.status == "foreign")
    ).all()
    types = {t for t, _ in held}
    assert {"refund.created", "charge.refunded", "charge.dispute.created"} <= types
    assert "charge.dispute.closed" in types
    assert {key for _, key in held} == {link["payment_intent"]}
    assert _count(StripeEvent, StripeEvent.status == "processed") == 0


def test_adopting_a_payment_link_payment_books_it_as_one_gift(db, emulator, staff_client):
    link = payment_link_payment(emulator)
    emulator.deliver_pending()
    emulator.refund(emulator.list_objects("charge")[0]["id"], 1_000)
    emulator.deliver_pending()
    assert figures()[2] == []

    assert staff_client.post(f"/staff/foreign/{link['payment_intent']}/adopt").status_code == 302
    gifts = figures()[2]
    assert gifts == [("usd", 1, LINK_AMOUNT)]
    donation = db.session.scalar(select(Donation))
    assert (donation.kind, donation.amount_refunded) == ("gift", 1_000)
    assert _count(ForeignObject) == 0


@pytest.mark.parametrize("delivery", [DEDICATED])
def test_with_a_dedicated_account_other_sales_count_as_they_always_did(
    app, db, emulator, staff_client
):
    our_member_joins(app, emulator)
    link = payment_link_payment(emulator)
    sub = dashboard_subscription(emulator)
    emulator.deliver_pending()

    members, mrr, gifts, membership_payments = figures()
    assert members == 2
    assert mrr == [("usd", OUR_MONTHLY + SHOP_MONTHLY, 2)]
    assert gifts == [("usd", 1, LINK_AMOUNT)]
    assert membership_payments == [("usd", 2, OUR_MONTHLY + SHOP_MONTHLY)]
    assert statuses_of(link["payment_intent"], sub["id"]) == {"processed"}
    assert _count(ForeignObject) == 0
    page = staff_client.get("/staff/foreign")
    assert page.status_code == 200 and "Nothing foreign." in page.get_data(as_text=True)


# --- our own objects, whatever the order --------------------------------------------------


def _post_in_reverse(app, client, emulator: Emulator) -> None:
    """Every event the emulator recorded, newest first, signed as Stripe signs them."""
    with emulator.store.transaction(write=False) as tx:
        bodies = [payload_for(e, emulator.api_version, tx.get) for e in emulator.events()]
    for body in reversed(bodies):
        text = body.decode()
        secret = app.config["STRIPE_WEBHOOK_SECRET"]
        response = client.post(
            "/stripe/webhook",
            data=text,
            headers={"Stripe-Signature": signature_header(text, secret)},
        )
        assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("delivery", [SHARED, DEDICATED])
def test_our_membership_counts_the_same_when_its_untagged_events_come_first(
    app, client, db, emulator, delivery
):
    emulator.set_drop_deliveries(True)
    sub_id = our_member_joins(app, emulator)
    _post_in_reverse(app, client, emulator)

    assert figures()[0] == 1
    assert figures()[3] == [("usd", 1, OUR_MONTHLY)]
    donation = db.session.scalar(select(Donation))
    assert donation.stripe_payment_intent_id is not None  # the invoice payment was not lost
    assert _count(StripeEvent, StripeEvent.status == "foreign") == 0
    assert statuses_of(sub_id) == {"processed"}


def test_the_worker_holds_and_releases_the_same_way(make_app):
    app = make_app(WEBHOOK_QUEUE="1", **SHARED)
    with app.app_context():
        client = app.test_client()
        emulator = app.extensions["stripe_emulator"]
        emulator.set_drop_deliveries(True)
        our_member_joins(app, emulator)
        dashboard_subscription(emulator)
        _post_in_reverse(app, client, emulator)
        while work(
            livemode=False,
            installation=app.config["INSTALLATION_TAG"],
            stop=lambda: False,
            once=True,
        ):
            pass
        members, mrr, _, payments = figures()
        assert (members, mrr, payments) == (
            1,
            [("usd", OUR_MONTHLY, 1)],
            [("usd", 1, OUR_MONTHLY)],
        )
        assert _count(ForeignObject) == 1


@pytest.mark.parametrize("delivery", [{**chaos(seed), **SHARED} for seed in CHAOS_SEEDS])
def test_chaotic_delivery_counts_only_our_member(app, db, emulator, delivery):
    assert emulator.deliverer.mode == "chaos"
    our_member_joins(app, emulator)
    payment_link_payment(emulator)
    dashboard_subscription(emulator)
    emulator.deliver_pending(timeout=30)
    assert emulator.store.next_due() is None  # nothing left to deliver
    assert figures() == (1, [("usd", OUR_MONTHLY, 1)], [], [("usd", 1, OUR_MONTHLY)])
    assert _count(ForeignObject) == 2


# --- stripe sync and stripe check ----------------------------------------------------------


def test_sync_leaves_untagged_objects_foreign_and_takes_adopted_ones(
    db, emulator, staff_client, runner
):
    emulator.set_drop_deliveries(True)
    link = payment_link_payment(emulator)
    sub = dashboard_subscription(emulator)

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert figures() == (0, [], [], [])
    assert {f.stripe_id for f in db.session.scalars(select(ForeignObject))} == {
        link["payment_intent"],
        sub["id"],
    }

    assert staff_client.post(f"/staff/foreign/{sub['id']}/adopt").status_code == 302
    assert db.session.scalar(select(Adoption.events_applied)) == 0  # none were delivered
    assert runner.invoke(args=["stripe", "sync"]).exit_code == 0
    adopted = figures()
    assert adopted == (1, [("usd", SHOP_MONTHLY, 1)], [], [("usd", 1, SHOP_MONTHLY)])
    assert runner.invoke(args=["stripe", "sync"]).exit_code == 0
    assert figures() == adopted


@pytest.mark.parametrize("delivery", [DEDICATED])
def test_stripe_check_warns_of_others_objects_on_a_dedicated_account(db, emulator, runner):
    clean = runner.invoke(args=["stripe", "check"])
    assert clean.exit_code == 0 and "warning" not in clean.output

    link = payment_link_payment(emulator)
    result = runner.invoke(args=["stripe", "check"])
    assert result.exit_code == 0, result.output  # a warning, not a missing piece
    assert "warning:" in result.output and "STRIPE_ACCOUNT_SHARED=1" in result.output
    assert link["id"] in result.output


def test_stripe_check_is_quiet_about_them_on_a_shared_account(db, emulator, runner):
    payment_link_payment(emulator)
    dashboard_subscription(emulator)
    result = runner.invoke(args=["stripe", "check"])
    assert result.exit_code == 0 and "warning" not in result.output


# --- the staff pages -----------------------------------------------------------------------


def test_the_foreign_list_pages_like_the_other_staff_lists(db, staff_client):
    now = utcnow()
    for n in range(51):
        db.session.add(
            ForeignObject(
                stripe_id=f"pi_{n:03d}",
                kind="payment",
                amount=100 + n,
                currency="usd",
                created=now,
                description=f"Checkout payment cs_{n}",
            )
        )
    db.session.commit()
    first = staff_client.get("/staff/foreign")
    assert first.status_code == 200 and 'rel="next"' in first.get_data(as_text=True)
    assert staff_client.get("/staff/foreign?page=2").status_code == 200
    assert staff_client.get("/staff/foreign?page=3").status_code == 404
    assert staff_client.get("/staff/foreign?page=x").status_code == 400
    assert staff_client.get("/staff/foreign/pi_nope/adopt").status_code == 404
    assert staff_client.post("/staff/foreign/pi_nope/adopt").status_code == 404


def test_adopting_needs_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, **SHARED)
    client = app.test_client()
    with app.app_context():
        login(client, make_user(email="staff@example.org", is_staff=True))
        db.session.add(
            ForeignObject(
                stripe_id="sub_x", kind="subscription", amount=1, currency="usd", created=utcnow()
            )
        )
        db.session.commit()
    assert client.post("/staff/foreign/sub_x/adopt").status_code == 400
    page = client.get("/staff/foreign/sub_x/adopt").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/staff/foreign/sub_x/adopt", data={"csrf_token": token})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Adoption.stripe_object_id)) == "sub_x"


def test_a_stored_foreign_event_is_not_applied_again_when_stripe_redelivers_it(app, db, emulator):
    link = payment_link_payment(emulator)
    emulator.deliver_pending()
    held = db.session.scalars(select(StripeEvent).where(StripeEvent.status == "foreign")).all()
    assert held
    attempts = {e.stripe_event_id: e.attempts for e in held}
    for event_id in attempts:
        emulator.resend(event_id)
    emulator.deliver_pending()
    db.session.expire_all()
    again = db.session.scalars(select(StripeEvent).where(StripeEvent.status == "foreign")).all()
    assert {e.stripe_event_id: e.attempts for e in again} == attempts
    assert json.loads(again[0].payload)["id"] in attempts
    assert all(e.owner_key == link["payment_intent"] for e in again)
