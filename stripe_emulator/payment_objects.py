"""Builders of payment objects: payment intents, charges and refunds."""

from __future__ import annotations

from typing import Any

from .cards import Card
from .objects import PRIVATE, address, new_id, now, stripe_list

# A charge's refunds: includable, not sent unless expanded since API 2022-11-15
# (docs.stripe.com/changelog/2022-11-15/deprecates-charges-auto-expand).
# Stored on the charge; stripped from answers and payloads unless expanded, or for an endpoint
# on an API version before 2022-11-15 (includable.py, versions.py).
REFUNDS = "refunds"
# How refunds of this charge behave, from the card that paid it (cards.REFUND_BEHAVIOUR).
REFUND_BEHAVIOUR = PRIVATE + "refund_behaviour"


def payment_intent(
    amount: int,
    currency: str,
    customer_id: str | None,
    metadata: dict[str, str],
    description: str | None,
    receipt_email: str | None,
) -> dict[str, Any]:
    """A PaymentIntent; the caller sets its status and latest_charge."""
    pi_id = new_id("pi_")
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": now(),
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def charge(
    pi: dict[str, Any],
    card: Card,
    email: str | None,
    name: str | None,
    payment_method: str,
    site_url: str,
    failure: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """A charge of a PaymentIntent: succeeded, or failed with (decline_code, code, message).

    Its balance transaction is attached later (`charge.updated`), see charging.settle.
    """
    ch_id = new_id("ch_")
    ok = failure is None
    return {
        "id": ch_id,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if ok else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": {
            "address": address(),
            "email": email,
            "name": name,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "EMULATOR",
        "captured": ok,
        "created": now(),
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if ok else failure[1],
        "failure_message": None if ok else failure[2],
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(pi["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network" if ok else "declined_by_network",
            "reason": None if ok else failure[0],
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete." if ok else "The bank declined the payment.",
            "type": "authorized" if ok else "issuer_declined",
        },
        "paid": ok,
        "payment_intent": pi["id"],
        "payment_method": payment_method,
        "payment_method_details": {
            "card": {
                "amount_authorized": pi["amount"] if ok else None,
                "brand": card.brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "fingerprint": card.fingerprint,
                "funding": "credit",
                "last4": card.last4,
                "network": card.network,
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": email,
        "receipt_number": None,
        "receipt_url": f"{site_url}/_emulator/receipts/{ch_id}" if ok else None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if ok else "failed",
        "transfer_data": None,
        "transfer_group": None,
        REFUNDS: {**stripe_list([], f"/v1/charges/{ch_id}/refunds"), "total_count": 0},
        REFUND_BEHAVIOUR: None,
    }


def refund(ch: dict[str, Any], amount: int, reason: str | None, status: str) -> dict[str, Any]:
    """A card refund of (part of) a charge; its acquirer reference comes later."""
    ref = {
        "id": new_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,  # the caller records it (balance.for_refund)
        "charge": ch["id"],
        "created": now(),
        "currency": ch["currency"],
        "customer": ch["customer"],
        "customer_account": None,
        "destination_details": {
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": {},
        "payment_intent": ch["payment_intent"],
        "payment_method": ch["payment_method"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }
    if status == "pending":
        ref["pending_reason"] = "processing"
    return ref
