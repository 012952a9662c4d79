"""Emulator-side set-ups shared by the payments tests (through the real SDK)."""

from __future__ import annotations

import stripe

from stripe_emulator import Emulator


def emulated_member(emulator: Emulator, email: str) -> str:
    """A monthly membership paid through Checkout; its subscription id."""
    sdk = stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client)
    price = {
        "currency": "usd",
        "unit_amount": 800,
        "product_data": {"name": "Membership"},
        "recurring": {"interval": "month"},
    }
    checkout = sdk.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": "http://localhost/support/thanks?session_id={CHECKOUT_SESSION_ID}",
            "customer_email": email,
        }
    )
    emulator.pay_checkout(checkout.id, "4242424242424242")
    return str(emulator.get(checkout.id)["subscription"])  # type: ignore[index]
