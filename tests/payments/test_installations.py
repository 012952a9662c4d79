"""Installations sharing one Stripe account (dev and staging on one test account): each
tags what it creates, and leaves the objects another installation tagged alone (§8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from donations.extensions import db as _db
from donations.facts.metadata import CheckoutMetadata, CustomerMetadata
from donations.membership.progress import recount_members
from donations.models import Donation, Membership, StripeEvent, User
from donations.payments.gateway import get_gateway
from donations.payments.sync import run_sync
from tests.factories import login, make_user, pay_membership

DEV = "http://dev.example.org"
STAGING = "http://staging.example.org"


def _two_installations(make_app, tmp_path, *, staging_hears: bool = True) -> dict[str, Any]:
    """Dev and staging: own databases and sites, one emulator state (one Stripe account)."""
    apps = {
        DEV: make_app(SITE_URL=DEV),
        STAGING: make_app(SITE_URL=STAGING, DATABASE_URL=f"sqlite:///{tmp_path / 'st.sqlite3'}"),
    }
    clients = {site: app.test_client() for site, app in apps.items()}

    def transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        site = next(s for s in clients if url.startswith(s + "/"))
        if site == STAGING and not staging_hears:
            return 200  # staging was down: only `stripe sync` can see the payment
        return clients[site].post("/stripe/webhook", data=body, headers=headers).status_code

    for app in apps.values():
        app.extensions["stripe_emulator"].deliverer.transport = transport
        with app.app_context():
            _db.create_all()
            assert make_user(email=f"one@{app.config['SITE_URL'][7:]}").id == 1
    return apps


def _dev_member_pays(apps: dict[str, Any]) -> str:
    dev = apps[DEV]
    with dev.app_context():
        client = dev.test_client()
        login(client, _db.session.get(User, 1))
        pay_membership(client, dev.extensions["stripe_emulator"])
        return _db.session.get(User, 1).stripe_customer_id


def _records(app) -> dict[str, Any]:
    with app.app_context():
        return {
            "memberships": _db.session.scalar(select(func.count(Membership.id))),
            "donations": _db.session.scalar(select(func.count(Donation.id))),
            "users": _db.session.scalar(select(func.count(User.id))),
            "user_1_customer": _db.session.get(User, 1).stripe_customer_id,
            "members": recount_members(),
            "statuses": dict(
                _db.session.execute(select(StripeEvent.type, StripeEvent.status)).all()
            ),
        }


def test_another_installations_payment_is_ignored_at_our_endpoint(make_app, tmp_path):
    apps = _two_installations(make_app, tmp_path)
    customer = _dev_member_pays(apps)
    dev, staging = _records(apps[DEV]), _records(apps[STAGING])
    assert (dev["memberships"], dev["members"], dev["user_1_customer"]) == (1, 1, customer)
    assert set(dev["statuses"].values()) == {"processed"}
    # Staging's endpoint got the same events: stored as ignored, nothing linked or created.
    assert staging["statuses"] == {
        "checkout.session.completed": "ignored",
        "customer.subscription.created": "ignored",
        "customer.subscription.updated": "ignored",
        "invoice.paid": "ignored",
        # Objects that carry no metadata at all; they name only what was ignored above.
        "charge.succeeded": "processed",
        "invoice_payment.paid": "processed",
    }
    assert (staging["memberships"], staging["donations"], staging["members"]) == (0, 0, 0)
    assert (staging["users"], staging["user_1_customer"]) == (1, None)
    with apps[STAGING].app_context():
        errors = set(
            _db.session.scalars(select(StripeEvent.error).where(StripeEvent.status == "ignored"))
        )
    assert len(errors) == 1 and "another installation" in errors.pop()


def test_a_sync_does_not_adopt_another_installations_customers(make_app, tmp_path):
    apps = _two_installations(make_app, tmp_path, staging_hears=False)
    _dev_member_pays(apps)
    with apps[STAGING].app_context():
        report = run_sync(get_gateway())
    staging = _records(apps[STAGING])
    assert (staging["memberships"], staging["donations"], staging["members"]) == (0, 0, 0)
    assert (staging["users"], staging["user_1_customer"]) == (1, None)
    assert report.error is None and report.changed == 0, report.changes
    # The customer, the subscription, its invoice, the checkout session.
    assert report.counts["other_installation"] == 4, report.counts


def test_checkout_and_customer_carry_the_installation_tag(make_app, tmp_path):
    apps = _two_installations(make_app, tmp_path)
    customer = _dev_member_pays(apps)
    emulator = apps[DEV].extensions["stripe_emulator"]
    tag = apps[DEV].config["INSTALLATION_TAG"]
    assert tag != apps[STAGING].config["INSTALLATION_TAG"]
    assert CustomerMetadata.from_stripe(emulator.get(customer)["metadata"]).site == tag
    (sub,) = emulator.list_objects("subscription")
    assert CheckoutMetadata.from_stripe(sub["metadata"]).site == tag


def test_an_untagged_fact_is_not_linked_to_a_user_whose_customer_differs(db, world, send):
    user = make_user(stripe_customer_id="cus_theirs_here")
    # An older (untagged) subscription naming our user id, but for another customer.
    send(
        world.event(
            "customer.subscription.created",
            world.subscription("sub_old", "cus_someone_else", "active", user_id=user.id),
        )
    )
    membership = db.session.scalar(select(Membership))
    assert membership.user_id != user.id
    assert db.session.get(User, membership.user_id).stripe_customer_id == "cus_someone_else"
    assert db.session.get(User, user.id).stripe_customer_id == "cus_theirs_here"


def test_an_untagged_fact_still_links_by_a_matching_customer(db, world, send):
    user = make_user(stripe_customer_id="cus_mine")
    send(
        world.event(
            "customer.subscription.created",
            world.subscription("sub_old", "cus_mine", "active", user_id=user.id),
        )
    )
    assert db.session.scalar(select(Membership.user_id)) == user.id
