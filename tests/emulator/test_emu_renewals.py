"""Renewals, failed payments and their retries, and each dunning end state, through the SDK."""

from __future__ import annotations

from collections import Counter

import pytest
import stripe

from stripe_emulator import Emulator, EmulatorError

from .conftest import Inbox
from .sequences import FAILED, NEW_PERIOD, PAID, PAST_DUE, delivered, of_type, only, types


def test_renewal_emits_a_new_period_and_its_payment(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    old_end = emu_member["items"].data[0].current_period_end
    emu.renew(emu_member.id)
    events = delivered(emu, emu_inbox)
    assert types(events) == NEW_PERIOD + PAID
    period = only(events, "customer.subscription.updated")
    sub = period.data.object
    assert sub["items"].data[0].current_period_start == old_end
    assert sub["items"].data[0].current_period_end > old_end
    assert period.data.previous_attributes["items"]["data"][0]["current_period_end"] == old_end
    invoice = only(events, "invoice.paid").data.object
    assert (invoice.billing_reason, invoice.amount_paid) == ("subscription_cycle", 800)
    assert sub.latest_invoice == invoice.id
    payment = only(events, "invoice_payment.paid").data.object
    assert payment.invoice == invoice.id
    assert (
        payment.payment.payment_intent
        == only(events, "charge.succeeded").data.object.payment_intent
    )


def test_failed_renewal_makes_the_subscription_past_due(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    assert emu.renew(emu_member.id, fail=True)["status"] == "past_due"
    events = delivered(emu, emu_inbox)
    assert types(events) == NEW_PERIOD + FAILED + PAST_DUE
    invoice = only(events, "invoice.payment_failed").data.object
    assert (invoice.status, invoice.attempt_count) == ("open", 1)
    assert invoice.next_payment_attempt  # Stripe will retry
    charge = only(events, "charge.failed").data.object
    assert (charge.status, charge.failure_code) == ("failed", "card_declined")
    intent = only(events, "payment_intent.payment_failed").data.object
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == "generic_decline"
    (past_due,) = [
        e
        for e in of_type(events, "customer.subscription.updated")
        if e.data.object.status == "past_due"
    ]
    assert past_due.data.previous_attributes["status"] == "active"


def test_retries_reuse_the_invoices_payment_intent(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    emu.renew(emu_member.id, fail=True, retries=2, final_status="past_due")
    events = delivered(emu, emu_inbox)
    assert types(events) == NEW_PERIOD + FAILED + FAILED + FAILED + PAST_DUE
    charges = [e.data.object for e in of_type(events, "charge.failed")]
    assert len({c.id for c in charges}) == 3  # a new charge per attempt ...
    (pi_id,) = {c.payment_intent for c in charges}  # ... on the same PaymentIntent
    assert only(events, "payment_intent.created").data.object.id == pi_id
    attempts = [e.data.object.attempt_count for e in of_type(events, "invoice.payment_failed")]
    assert attempts == [1, 2, 3]
    emu.renew(emu_member.id)  # the card works again: the open invoice is paid
    events = delivered(emu, emu_inbox)
    assert types(events) == PAID + Counter(["customer.subscription.updated"])
    assert only(events, "charge.succeeded").data.object.payment_intent == pi_id
    assert only(events, "invoice_payment.paid").data.object.payment.payment_intent == pi_id
    recovered = only(events, "customer.subscription.updated")
    assert recovered.data.object.status == "active"
    assert recovered.data.previous_attributes["status"] == "past_due"
    assert only(events, "invoice.paid").data.object.attempt_count == 4


def test_first_failure_leaves_the_retries_to_come(
    emu: Emulator, emu_member: stripe.Subscription, emu_client: stripe.StripeClient
) -> None:
    # The end state follows the last retry; a first attempt is not a retry.
    sub = emu.renew(emu_member.id, fail=True, final_status="canceled")
    assert sub["status"] == "past_due"
    invoice = emu_client.v1.invoices.retrieve(sub["latest_invoice"])
    assert invoice.next_payment_attempt is not None


@pytest.mark.parametrize(
    ("setting", "status", "events_after"),
    [
        ("canceled", "canceled", Counter(["customer.subscription.deleted"])),
        ("unpaid", "unpaid", Counter(["customer.subscription.updated"])),
        (
            "paused",
            "paused",
            Counter(["customer.subscription.paused", "customer.subscription.updated"]),
        ),
        ("past_due", "past_due", Counter()),
    ],
)
def test_after_the_last_retry_the_accounts_setting_decides(
    emu: Emulator,
    emu_member: stripe.Subscription,
    emu_inbox: Inbox,
    emu_client: stripe.StripeClient,
    setting: str,
    status: str,
    events_after: Counter[str],
) -> None:
    sub = emu.renew(emu_member.id, fail=True, retries=3, final_status=setting)  # type: ignore[arg-type]
    assert sub["status"] == status
    events = delivered(emu, emu_inbox)
    assert types(events) == NEW_PERIOD + FAILED + FAILED + FAILED + FAILED + PAST_DUE + events_after
    invoice = emu_client.v1.invoices.retrieve(sub["latest_invoice"])
    assert (invoice.status, invoice.attempt_count) == ("open", 4)
    assert invoice.next_payment_attempt is None  # no retry is left
    final = emu_client.v1.subscriptions.retrieve(emu_member.id)
    assert final.status == status
    if setting == "canceled":
        deleted = only(events, "customer.subscription.deleted").data.object
        assert deleted.cancellation_details.reason == "payment_failed"
        with pytest.raises(EmulatorError):
            emu.renew(emu_member.id)
    if setting == "paused":
        paused = only(events, "customer.subscription.paused").data.object
        assert paused.status_details.paused.subscription.type == "final_payment_failure"
        moved = of_type(events, "customer.subscription.updated")[-1].data.previous_attributes
        assert (moved["status"], moved["status_details"]) == ("past_due", None)
        with pytest.raises(EmulatorError, match="paused"):
            emu.renew(emu_member.id)  # a paused subscription generates no invoices
    if setting == "unpaid":
        updates = of_type(events, "customer.subscription.updated")
        assert updates[-1].data.previous_attributes["status"] == "past_due"


def test_retries_need_a_failure(emu: Emulator, emu_member: stripe.Subscription) -> None:
    with pytest.raises(EmulatorError):
        emu.renew(emu_member.id, retries=2)
    with pytest.raises(EmulatorError):
        emu.renew(emu_member.id, fail=True, final_status="gone")  # type: ignore[arg-type]


def test_a_second_failing_call_is_the_last_retry(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    # The Python API and `flask emulator renew --fail` called twice: unpaid by default.
    assert emu.renew(emu_member.id, fail=True)["status"] == "past_due"
    delivered(emu, emu_inbox)
    assert emu.renew(emu_member.id, fail=True)["status"] == "unpaid"
    events = delivered(emu, emu_inbox)
    assert types(events) == FAILED + Counter(["customer.subscription.updated"])
    assert only(events, "invoice.payment_failed").data.object.attempt_count == 2


def test_the_clock_moves_between_attempts_as_stripes_days_do(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    start = emu.now()
    emu.renew(emu_member.id, fail=True, retries=2, final_status="paused")
    events = delivered(emu, emu_inbox)
    at = {e.type: e.created for e in events}  # the last of each type
    # invoice.upcoming days before the renewal (the account's setting; 3 here), never with it.
    upcoming = only(events, "invoice.upcoming").created
    assert start <= upcoming <= start + 1
    opened = only(events, "invoice.created").created
    assert opened == upcoming + 3 * 86400
    # The invoice is finalized and charged an hour after the period opens (stripe-behaviour.md).
    assert only(events, "invoice.finalized").created == opened + 3600
    failures = [e.created for e in of_type(events, "invoice.payment_failed")]
    assert failures == [opened + 3600 + k * 3 * 86400 for k in range(3)]
    # Each retry at the next_payment_attempt the failure before it announced.
    announced = [
        e.data.object.next_payment_attempt for e in of_type(events, "invoice.payment_failed")
    ]
    assert failures[1:] == announced[:2]
    # The account's end state follows the last retry, days after the subscription went past due.
    subscription_events = [
        (e.created, e.data.object.status)
        for e in events
        if e.type.startswith("customer.subscription.")
    ]
    assert subscription_events == [
        (opened, "active"),  # the new period
        (failures[0], "past_due"),
        (failures[-1], "paused"),
        (failures[-1], "paused"),  # customer.subscription.paused and .updated
    ]
    assert at["customer.subscription.paused"] == failures[-1]
    assert emu.now() >= failures[-1]  # the clock stays moved: later events are later


def test_a_retry_called_later_happens_when_stripe_scheduled_it(
    emu: Emulator, emu_member: stripe.Subscription, emu_inbox: Inbox
) -> None:
    emu.renew(emu_member.id, fail=True)
    first = only(delivered(emu, emu_inbox), "invoice.payment_failed").data.object
    emu.renew(emu_member.id)  # the retry pays
    events = delivered(emu, emu_inbox)
    assert only(events, "invoice.paid").created == first.next_payment_attempt
    recovered = only(events, "customer.subscription.updated")
    assert (recovered.created, recovered.data.object.status) == (
        first.next_payment_attempt,
        "active",
    )
