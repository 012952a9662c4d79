"""Every handler gives the same records from the current payload layout and the older one.

An endpoint keeps the API version it was created with, so the same history can reach us
shaped for 2025 and later (basil) or for an endpoint made before: this replays one history
through the webhook in both layouts and compares the records.
"""

from __future__ import annotations

import json

from donations.facts.facts import EventFact
from donations.payments.ledger import receive
from tests.factories import make_user
from tests.payments.layouts import OLD_API_VERSION, old_charge, old_invoice, old_subscription
from tests.payments.records_snapshot import reset_records, snapshot_records
from tests.payments.stripe_events import World


def _history(user_id: int, old: bool) -> list[dict]:
    """Sign-up, first payment, a failed renewal, a refund, a gift disputed and lost, the end."""
    world = World()
    events: list[dict] = []

    def send(type_: str, obj: dict) -> None:
        event = world.event(type_, obj)
        if old:
            event["api_version"] = OLD_API_VERSION
        events.append(event)

    def sub(status: str, **kw) -> dict:
        current = world.subscription("sub_1", "cus_1", status, user_id=user_id, **kw)
        return old_subscription(current) if old else current

    def invoice(inv_id: str, intent: str | None, **kw) -> dict:
        current = world.invoice(inv_id, "sub_1", "cus_1", user_id=user_id, **kw)
        return old_invoice(current, payment_intent=intent) if old else current

    def charge(ch_id: str, intent: str, refunds: list[dict] | None = None, **kw) -> dict:
        current = world.charge(ch_id, intent, customer="cus_1", user_id=user_id, **kw)
        return old_charge(current, refunds) if old else current

    send(
        "checkout.session.completed",
        world.checkout(
            "cs_1", mode="subscription", customer="cus_1", subscription="sub_1", user_id=user_id
        ),
    )
    send("customer.subscription.created", sub("incomplete"))
    send("invoice.paid", invoice("in_1", "pi_1", reason="subscription_create"))
    send("invoice_payment.paid", world.invoice_payment("in_1", "pi_1"))
    send("charge.succeeded", charge("ch_1", "pi_1", amount=800, gift=False))
    send("customer.subscription.updated", sub("active", article="story"))
    send("invoice.payment_failed", invoice("in_2", None, paid=False, attempt_count=2))
    send("customer.subscription.updated", sub("past_due"))
    refund = world.refund("re_1", "ch_1", "pi_1", amount=300)
    send("refund.created", refund)
    send("charge.refunded", charge("ch_1", "pi_1", [refund], amount=800, refunded=300, gift=False))
    send(
        "checkout.session.completed",
        world.checkout("cs_2", customer="cus_1", payment_intent="pi_2", user_id=user_id, fee=75),
    )
    send("charge.succeeded", charge("ch_2", "pi_2", fee=75))
    send("charge.dispute.created", world.dispute("dp_1", "ch_2", "pi_2", "needs_response"))
    send("charge.dispute.closed", world.dispute("dp_1", "ch_2", "pi_2", "lost"))
    send("customer.subscription.deleted", sub("canceled"))
    return events


def _apply(events: list[dict]) -> dict:
    for event in events:
        outcome = receive(
            EventFact.from_payload(event, raw=json.dumps(event)),
            livemode=False,
            installation="dours",
        )
        assert outcome.status == "processed", (event["type"], outcome)
    return snapshot_records()


def test_the_old_layout_gives_the_same_records_as_the_current_one(db):
    user = make_user(email="reader@example.org")
    current = _apply(_history(user.id, old=False))
    reset_records()
    old = _apply(_history(user.id, old=True))
    assert old == current
    # And the records are the history's, not merely equal to each other.
    assert [m[2] for m in current["memberships"]] == ["canceled"]
    assert [(d[0], d[1], d[-2], d[-1]) for d in current["donations"]] == [
        ("", "pi_2", 0, True),  # the dispute was lost
        ("in_1", "pi_1", 500, False),
    ]
    assert current["failed"] == [("in_2", 2)]
