"""Idempotency keys across databases and environments that share one Stripe account."""

from __future__ import annotations

import pytest
import stripe

from donations.extensions import db as _db
from donations.payments.gateway import get_gateway
from tests.factories import login, make_user


def _member_form(attempt: str) -> dict[str, str]:
    return {"interval": "month", "amount": "8", "currency": "usd", "attempt": attempt}


def test_user_one_of_a_second_database_can_pay_against_the_same_stripe_state(make_app, tmp_path):
    # Dev and staging on one test account, or a database reset: ids restart at 1, Stripe's
    # idempotency keys live on for 24 h. Same emulator state, same secret and site: worst case.
    first = make_app()
    second = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'second.sqlite3'}")
    emulators = [a.extensions["stripe_emulator"] for a in (first, second)]
    assert emulators[0].store.path == emulators[1].store.path
    locations = []
    for app, email in ((first, "first@example.com"), (second, "second@example.com")):
        with app.app_context():
            _db.create_all()
            user = make_user(email=email)
            assert user.id == 1
            client = app.test_client()
            login(client, user)
            # The same form token in both: the minute fallback or a reused tab would do this.
            response = client.post("/support/checkout", data=_member_form("same-token-0123456789"))
            assert response.status_code == 303, response.get_data(as_text=True)
            locations.append(response.headers["Location"])
            customer = _db.session.get(type(user), 1).stripe_customer_id
            assert customer
    assert locations[0] != locations[1]
    customers = first.extensions["stripe_emulator"].list_objects("customer")
    assert sorted(c["email"] for c in customers) == ["first@example.com", "second@example.com"]


def test_a_key_taken_by_another_request_is_retried_with_a_fresh_one(app, db, emulator):
    gateway = get_gateway()
    # Someone else (another environment) used our scoped key with other parameters.
    gateway.client.v1.customers.create(
        params={"email": "someone-else@example.com"},
        options={"idempotency_key": f"{gateway.key_namespace}-customer-1-42"},
    )
    customer_id = gateway.ensure_customer(
        customer_id=None, email="reader@example.com", name="", user_id=1, key="customer-1-42"
    )
    assert emulator.get(customer_id)["email"] == "reader@example.com"


def test_a_repeated_customer_request_still_gets_the_same_customer(app, db, emulator):
    gateway = get_gateway()
    ids = {
        gateway.ensure_customer(
            customer_id=None, email="r@example.com", name="R", user_id=7, key="customer-7-99"
        )
        for _ in range(2)
    }
    assert len(ids) == 1
    assert len(emulator.list_objects("customer")) == 1


def test_installations_use_different_key_namespaces(make_app, tmp_path):
    one = make_app()
    other = make_app(SITE_URL="https://staging.example.org")
    keys = {a.extensions["payments_gateway"].key_namespace for a in (one, other)}
    assert len(keys) == 2
    with pytest.raises(stripe.IdempotencyError):
        # The emulator, like Stripe, still refuses a reused key with other parameters.
        client = one.extensions["payments_gateway"].client
        client.v1.customers.create(params={"email": "a@x.org"}, options={"idempotency_key": "k"})
        client.v1.customers.create(params={"email": "b@x.org"}, options={"idempotency_key": "k"})
