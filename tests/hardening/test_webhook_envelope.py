"""A signed but malformed webhook is a 400 stored nowhere; a failed handler answers briefly."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from donations.facts.envelope import object_of_event
from donations.facts.facts import PARSERS
from donations.models import Membership, StripeEvent
from donations.payments.ledger import HANDLERS
from tests.factories import make_user
from tests.payments.stripe_events import World, post_event, signature_header


@pytest.fixture
def world() -> World:
    """Stripe objects and events, as in the payments tests."""
    return World()


def _mangled(world, change):
    event = world.event(
        "customer.subscription.created", world.subscription("sub_1", "cus_1", "active")
    )
    change(event)
    return event


MALFORMED = {
    "created far past the calendar": lambda e: e.update(created=10**20),
    "created as a float": lambda e: e.update(created=1e20),
    "created negative": lambda e: e.update(created=-1),
    "id over 255 characters": lambda e: e.update(id="evt_" + "x" * 252),
    "NUL in the id": lambda e: e.update(id="evt_\x00abc"),
    "an object where the id belongs": lambda e: e.update(id={"id": "evt_1"}),
    "a number where the type belongs": lambda e: e.update(type=7),
    "an object where the object's id belongs": lambda e: e["data"]["object"].update(id={"a": 1}),
    "customer id over 255 characters": lambda e: e["data"]["object"].update(customer="c" * 300),
    "NUL deep inside the object": lambda e: e["data"]["object"]["metadata"].update(note="a\x00"),
    "data.object not an object": lambda e: e["data"].update(object=["sub_1"]),
    "api_version too long": lambda e: e.update(api_version="2026-" + "9" * 60),
    # Valid JSON ("\\ud800"), but half a surrogate pair is not Unicode: no database stores it.
    "half a surrogate pair in the id": lambda e: e.update(id="evt_\ud800trial"),
    "half a surrogate pair deep inside": lambda e: e["data"]["object"]["metadata"].update(
        note="a\udc00"
    ),
    # Keys are stored too (the payload, the metadata): they are checked as values are.
    "NUL in a key": lambda e: e["data"]["object"]["metadata"].update({"no\x00te": "a"}),
    "half a surrogate pair in a key": lambda e: e["data"]["object"]["metadata"].update(
        {"no\ud800te": "a"}
    ),
    # The object must be what the event type says, and an expanded reference names its id.
    "a subscription event without its object type": lambda e: e["data"]["object"].pop("object"),
    "a subscription event carrying an invoice": lambda e: e["data"]["object"].update(
        object="invoice"
    ),
    "a subscription without its id": lambda e: e["data"]["object"].pop("id"),
    "an expanded customer without its id": lambda e: e["data"]["object"].update(
        customer={"object": "customer", "email": "someone@example.org"}
    ),
    "an expanded customer whose id is a number": lambda e: e["data"]["object"].update(
        customer={"object": "customer", "id": 7}
    ),
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_malformed_event_is_a_400_and_stored_nowhere(
    app, client, db, world, change, caplog
):
    event = _mangled(world, change)
    with caplog.at_level(logging.WARNING):
        response = post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.status_code == 400
    assert "error" in response.json
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_failed_handler_keeps_its_full_error_but_answers_stripe_briefly(
    app, client, db, world, monkeypatch
):
    user = make_user()
    event = world.event(
        "customer.subscription.created",
        world.subscription("sub_1", "cus_1", "active", user_id=user.id),
    )
    from donations.payments import ledger

    def broken(fact, at):
        raise RuntimeError('INSERT INTO memberships (secret) VALUES ("db detail")')

    monkeypatch.setitem(ledger.HANDLERS, "customer.subscription.created", broken)
    response = post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.status_code == 500
    assert "INSERT" not in response.get_data(as_text=True)
    assert response.json["error"] == "processing failed; kept for replay"
    row = db.session.scalar(select(StripeEvent))
    assert row.status == "failed"
    assert "INSERT INTO memberships" in row.error


def test_a_signed_body_nested_thousands_deep_is_a_400_and_stored_nowhere(app, client, db):
    # JSON's parser gives up (RecursionError) long before our envelope check could look.
    body = '{"id":"evt_deep","type":"x","created":1,"data":{"object":'
    body += "[" * 50_000 + "]" * 50_000 + "}}"
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    response = client.post(
        "/stripe/webhook",
        data=body,
        headers={
            "Stripe-Signature": signature_header(body, secret),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400 and "nested too deeply" in response.json["error"]
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_every_handled_event_type_names_the_object_it_carries():
    # A new handler whose type the envelope does not know would let any object through.
    for event_type in HANDLERS:
        assert object_of_event(event_type) in PARSERS, event_type


@pytest.mark.parametrize("event_type", sorted(HANDLERS))
@pytest.mark.parametrize("kind", ["no object type", "another object type", "customer without id"])
def test_each_handled_event_type_refuses_an_object_of_another_kind(
    app, client, db, world, event_type, kind
):
    expected = object_of_event(event_type)
    obj = {"id": "obj_1", "object": expected, "customer": "cus_1", "metadata": {}}
    if kind == "no object type":
        del obj["object"]
    elif kind == "another object type":
        obj["object"] = "subscription" if expected != "subscription" else "invoice"
    else:
        obj["customer"] = {"object": "customer", "deleted": True}
    response = post_event(client, world.event(event_type, obj), app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.status_code == 400 and "error" in response.json
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_an_expanded_customer_with_its_id_is_applied(app, client, db, world):
    user = make_user()
    subscription = world.subscription("sub_1", "cus_1", "active", user_id=user.id)
    subscription["customer"] = {"id": "cus_1", "object": "customer", "email": "x@example.org"}
    event = world.event("customer.subscription.created", subscription)
    response = post_event(client, event, app.config["STRIPE_WEBHOOK_SECRET"])
    assert response.status_code == 200 and response.json["status"] == "processed"
    assert db.session.scalar(select(Membership)).user_id == user.id
