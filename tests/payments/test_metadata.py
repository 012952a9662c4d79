"""The metadata contract: the exact strings we send to Stripe, and how we read them back."""

from __future__ import annotations

import pytest

from donations.facts.facts import parse_event_object
from donations.facts.metadata import CheckoutMetadata, CustomerMetadata, is_foreign, site_of
from tests.payments.stripe_events import World


def test_a_gift_writes_interval_fee_user_and_article_as_strings():
    metadata = CheckoutMetadata(interval="once", fee_amount=58, user_id=7, article="flood-walls")
    assert metadata.to_stripe() == {
        "interval": "once",
        "fee_amount": "58",
        "user_id": "7",
        "article": "flood-walls",
    }


def test_an_anonymous_membership_without_article_writes_only_interval_and_fee():
    assert CheckoutMetadata(interval="month").to_stripe() == {
        "interval": "month",
        "fee_amount": "0",
    }


def test_what_is_written_reads_back_the_same():
    metadata = CheckoutMetadata(interval="year", fee_amount=120, user_id=42, article="a-1")
    assert CheckoutMetadata.from_stripe(metadata.to_stripe()) == metadata


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, CheckoutMetadata()),
        ({}, CheckoutMetadata()),
        ({"fee_amount": "lots"}, CheckoutMetadata()),
        ({"fee_amount": "-5"}, CheckoutMetadata()),
        ({"fee_amount": ""}, CheckoutMetadata()),
        ({"user_id": "abc"}, CheckoutMetadata()),
        ({"user_id": "12a"}, CheckoutMetadata()),
        ({"interval": "once", "note": "kept by Stripe"}, CheckoutMetadata(interval="once")),
        ({"fee_amount": 30, "user_id": 5}, CheckoutMetadata(fee_amount=30, user_id=5)),
    ],
)
def test_missing_or_garbled_values_read_as_empty(raw, expected):
    assert CheckoutMetadata.from_stripe(raw) == expected


@pytest.mark.parametrize(("interval", "gift"), [("once", True), ("month", False), (None, False)])
def test_only_the_once_interval_is_a_gift(interval, gift):
    assert CheckoutMetadata(interval=interval).is_gift is gift


def test_a_customer_carries_only_the_user_id():
    assert CustomerMetadata(user_id=9).to_stripe() == {"user_id": "9"}
    assert CustomerMetadata.from_stripe({"user_id": "9"}) == CustomerMetadata(user_id=9)
    assert CustomerMetadata.from_stripe({"user_id": "nine"}) == CustomerMetadata()


def test_every_object_checkout_writes_to_reads_back_the_contract():
    world = World()
    subscription = world.subscription("sub_1", "cus_1", "active", user_id=3, article="a-1")
    invoice = world.invoice("in_1", "sub_1", "cus_1", user_id=3)  # parent.subscription_details
    session = world.checkout("cs_1", user_id=3, fee=75, article="a-1")
    charge = world.charge("ch_1", "pi_1", user_id=3, fee=75)
    facts = {o["object"]: parse_event_object(o) for o in (subscription, invoice, session, charge)}
    assert facts["subscription"].metadata == CheckoutMetadata("month", 0, 3, "a-1")
    assert facts["invoice"].metadata == CheckoutMetadata("month", 0, 3)
    assert facts["checkout.session"].metadata == CheckoutMetadata("once", 75, 3, "a-1")
    assert facts["charge"].metadata == CheckoutMetadata("once", 75, 3)
    assert facts["charge"].metadata.is_gift and not facts["invoice"].metadata.is_gift


def test_the_installation_tag_is_written_as_site_on_checkouts_and_customers():
    metadata = CheckoutMetadata(interval="month", fee_amount=0, user_id=3, site="d0123abcd4567")
    assert metadata.to_stripe() == {
        "interval": "month",
        "fee_amount": "0",
        "user_id": "3",
        "site": "d0123abcd4567",
    }
    assert CheckoutMetadata.from_stripe(metadata.to_stripe()) == metadata
    customer = CustomerMetadata(user_id=9, site="d0123abcd4567")
    assert customer.to_stripe() == {"user_id": "9", "site": "d0123abcd4567"}
    assert CustomerMetadata.from_stripe(customer.to_stripe()) == customer
    assert CustomerMetadata.from_stripe({"user_id": "9", "site": ""}).site is None


@pytest.mark.parametrize(
    ("obj", "site"),
    [
        ({"object": "customer", "metadata": {"site": "dA"}}, "dA"),
        ({"object": "customer", "metadata": {"user_id": "1"}}, None),
        ({"object": "customer"}, None),
    ],
)
def test_the_tag_is_read_from_raw_objects_and_facts(obj, site):
    assert site_of(obj) == site
    assert site_of(parse_event_object(obj)) == site


def test_only_another_tag_is_foreign_not_a_missing_one():
    assert is_foreign("dA", "dB") and not is_foreign("dA", "dA") and not is_foreign(None, "dB")
