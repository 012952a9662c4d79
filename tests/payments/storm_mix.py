"""A renewal day's mix of Stripe events (issue 18): per member a subscription Checkout's six
events and a renewal's four, some cancelling; one-time gifts. Shared by bench/mixed_storm.py and
the two-worker test, so both exercise the same events.

These are the events the emulator delivers to an endpoint subscribed to our handlers' types
(stripe_emulator/paying.py, invoicing.py, charging.py), in Stripe's current layout.
"""

from __future__ import annotations

from typing import Any

from tests.payments.stripe_events import PERIOD_END, World

MONTH = 30 * 86_400


def member_events(world: World, n: int, cancels: bool) -> list[dict[str, Any]]:
    """A member's Checkout, renewal and (for some) cancellation, as Stripe sends them."""
    cus, sub, cs = f"cus_m{n:05d}", f"sub_m{n:05d}", f"cs_m{n:05d}"
    renewed = PERIOD_END + MONTH
    events = [
        world.event(
            "checkout.session.completed",
            world.checkout(cs, mode="subscription", customer=cus, subscription=sub, amount=800),
        ),
        world.event("customer.subscription.created", world.subscription(sub, cus, "incomplete")),
        world.event(
            "customer.subscription.updated",
            world.subscription(sub, cus, "active"),
            previous={"status": "incomplete"},
        ),
        world.event(
            "invoice.paid", world.invoice(f"in_m{n:05d}a", sub, cus, reason="subscription_create")
        ),
        world.event("invoice_payment.paid", world.invoice_payment(f"in_m{n:05d}a", f"pi_m{n}a")),
        world.event(
            "charge.succeeded",
            world.charge(f"ch_m{n:05d}a", f"pi_m{n}a", amount=800, customer=cus, gift=False),
        ),
        # The renewal: the period moves on and its invoice is paid.
        world.event(
            "customer.subscription.updated",
            world.subscription(sub, cus, "active", period_end=renewed),
        ),
        world.event("invoice.paid", world.invoice(f"in_m{n:05d}b", sub, cus)),
        world.event("invoice_payment.paid", world.invoice_payment(f"in_m{n:05d}b", f"pi_m{n}b")),
        world.event(
            "charge.succeeded",
            world.charge(f"ch_m{n:05d}b", f"pi_m{n}b", amount=800, customer=cus, gift=False),
        ),
    ]
    if cancels:
        events.append(
            world.event(
                "customer.subscription.deleted",
                world.subscription(sub, cus, "canceled", period_end=renewed),
            )
        )
    return events


def gift_events(world: World, n: int) -> list[dict[str, Any]]:
    """A one-time gift through Checkout."""
    pi = f"pi_g{n:05d}"
    return [
        world.event(
            "checkout.session.completed",
            world.checkout(f"cs_g{n:05d}", customer=f"cus_g{n:05d}", payment_intent=pi),
        ),
        world.event("charge.succeeded", world.charge(f"ch_g{n:05d}", pi, customer=f"cus_g{n:05d}")),
    ]
