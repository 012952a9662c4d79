"""Facts read the same from Stripe's example objects in the current and the older layouts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from donations.facts.facts import (
    ChargeFact,
    DisputeFact,
    EventFact,
    InvoiceFact,
    RefundFact,
    SubscriptionFact,
    parse_event_object,
)
from tests.payments.layouts import old_charge, old_invoice, old_subscription
from tests.payments.stripe_events import fixture


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_a_subscription_reads_its_period_from_its_item_and_its_billing_from_its_price():
    fact = parse_event_object(fixture("subscription"))
    assert isinstance(fact, SubscriptionFact)
    # Stripe's example item has a placeholder plan (interval_count 797691627): price wins.
    assert (fact.interval, fact.interval_count, fact.amount, fact.currency) == (
        "month",
        1,
        2000,
        "usd",
    )
    assert fact.current_period_end == _at(976287773)


@pytest.mark.parametrize("plan_only", [False, True], ids=["plan-and-price", "plan-only"])
def test_an_old_subscription_reads_the_same(plan_only):
    current = fixture("subscription")
    old = old_subscription(current, plan_only=plan_only)
    assert "current_period_end" not in old["items"]["data"][0]
    assert SubscriptionFact.from_dict(old) == SubscriptionFact.from_dict(current)


def test_a_quarterly_price_is_month_times_three():
    sub = fixture("subscription")
    sub["items"]["data"][0]["price"]["recurring"]["interval_count"] = 3
    fact = SubscriptionFact.from_dict(sub)
    assert (fact.interval, fact.interval_count) == ("month", 3)
    old = SubscriptionFact.from_dict(old_subscription(sub, plan_only=True))
    assert (old.interval, old.interval_count) == ("month", 3)


def test_an_invoice_reads_its_subscription_from_its_parent():
    fact = parse_event_object(fixture("invoice"))
    assert isinstance(fact, InvoiceFact)
    # The example's top-level `subscription` is null: the current place wins.
    assert fact.subscription_id == "subscription"
    assert (fact.payment_intent_id, fact.expanded_payments) == (None, ())


def test_an_old_invoice_reads_the_same_and_names_its_payment_intent():
    invoice = fixture("invoice")
    invoice["parent"]["subscription_details"]["metadata"] = {"interval": "month", "user_id": "7"}
    current = InvoiceFact.from_dict(invoice)
    old = InvoiceFact.from_dict(old_invoice(invoice, payment_intent="pi_1", charge="ch_1"))
    assert old == replace(current, payment_intent_id="pi_1")
    assert old.metadata.user_id == 7 and old.has_metadata


def test_an_invoice_without_a_copy_of_the_metadata_says_so():
    invoice = fixture("invoice")
    invoice["parent"]["subscription_details"]["metadata"] = {"interval": "month"}
    fact = InvoiceFact.from_dict(old_invoice(invoice, with_metadata=False))
    assert (fact.subscription_id, fact.has_metadata, fact.metadata.interval) == (
        "subscription",
        False,
        None,
    )


def test_a_one_off_invoice_names_no_subscription():
    invoice = fixture("invoice")
    invoice["parent"] = None
    assert InvoiceFact.from_dict(invoice).subscription_id is None
    assert InvoiceFact.from_dict(old_invoice(invoice)).subscription_id is None


def test_a_refund_and_an_old_charge_with_its_refunds_read_alike():
    refund = RefundFact.from_dict(fixture("refund"))
    assert (refund.id, refund.charge_id, refund.status, refund.amount) == (
        "re_1Pgc72B7WZ01zgkWqPvrRrPE",
        "ch_1PgafuB7WZ01zgkWXYmPNZs8",
        "succeeded",
        100,
    )
    charge = fixture("charge")
    charge.update(payment_intent="pi_1", amount_refunded=100)
    del charge["refunds"]  # the current layout has no list
    assert ChargeFact.from_dict(charge).refunds == ()
    old = ChargeFact.from_dict(old_charge(charge, [fixture("refund")]))
    # A listed refund without its own payment intent belongs to the charge's.
    assert old.refunds == (replace(refund, payment_intent_id="pi_1"),)
    assert replace(old, refunds=()) == ChargeFact.from_dict(charge)


def test_a_dispute_reads_its_charge_and_status():
    fact = parse_event_object(fixture("dispute"))
    assert isinstance(fact, DisputeFact)
    assert (fact.charge_id, fact.status, fact.amount) == (
        "ch_1PgafuB7WZ01zgkWXYmPNZs8",
        "warning_needs_response",
        1000,
    )


def test_an_event_keeps_the_api_version_it_was_shaped_in():
    event = fixture("event")
    assert EventFact.from_payload(event, raw=None).api_version is None  # Stripe's example
    event["api_version"] = "2024-06-20"
    assert EventFact.from_payload(event, raw=None).api_version == "2024-06-20"


def test_a_dispute_with_its_charge_expanded_names_the_charges_payment():
    dispute = fixture("dispute")  # Stripe's example names no payment intent
    assert DisputeFact.from_dict(dispute).payment_intent_id is None
    charge_id = dispute["charge"]
    dispute["charge"] = {**fixture("charge"), "id": charge_id, "payment_intent": "pi_9"}
    fact = DisputeFact.from_dict(dispute)
    assert (fact.charge_id, fact.payment_intent_id) == (charge_id, "pi_9")


def test_an_update_says_what_the_subscription_was_before_it():
    sub = fixture("subscription")
    sub["status"] = "past_due"
    old_items = {"data": [{**sub["items"]["data"][0], "current_period_end": 900_000_000}]}
    event = fixture("event")
    event.update(
        type="customer.subscription.updated",
        data={
            "object": sub,
            # An array is given whole, a hash only its changed keys (API reference, Event).
            "previous_attributes": {
                "status": "active",
                "items": old_items,
                "metadata": {"article": None},
            },
        },
    )
    fact = EventFact.from_payload(event, raw=None)
    assert fact.previous_attributes == event["data"]["previous_attributes"]
    sub_fact = fact.parsed_object()
    assert isinstance(sub_fact, SubscriptionFact)
    assert sub_fact.previous_attributes == fact.previous_attributes
    assert sub_fact.before is not None
    assert (sub_fact.status, sub_fact.before.status) == ("past_due", "active")
    assert sub_fact.before.current_period_end == _at(900_000_000)
    assert sub_fact.current_period_end == _at(976287773)
    assert sub_fact.before.amount == sub_fact.amount  # what did not change stays


def test_an_event_without_previous_attributes_tells_no_before():
    event = fixture("event")
    event["data"] = {"object": fixture("subscription"), "previous_attributes": "garbled"}
    fact = EventFact.from_payload(event, raw=None)
    assert fact.previous_attributes is None
    assert fact.parsed_object().before is None
