"""Builders of billing objects: subscriptions, invoices and invoice payments."""

from __future__ import annotations

from typing import Any

from .objects import describe_price, new_id, now, plan, stripe_list

# The invoice's includable `payments` list: stored on the invoice, and stripped from every
# answer and payload unless a request expands it (includable.py); older API versions read
# their top-level `payment_intent` from it (versions.py).
PAYMENTS = "payments"


def subscription(
    customer_id: str,
    price_obj: dict[str, Any],
    qty: int,
    metadata: dict[str, str],
    period_start: int,
    period_end: int,
    payment_method: str,
) -> dict[str, Any]:
    """A new subscription with one item; its period lives on the item (current layout).

    It starts `incomplete` until its first invoice is paid, as one made by Checkout does
    (Checkout creates it with `payment_behavior=default_incomplete`).
    """
    sub_id = new_id("sub_")
    item = {
        "id": new_id("si_", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": period_start,
        "current_period_end": period_end,
        "current_period_start": period_start,
        "discounts": [],
        "metadata": {},
        "plan": plan(price_obj),
        "price": price_obj,
        "quantity": qty,
        "subscription": sub_id,
        "tax_rates": [],
    }
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": period_start,
        "billing_cycle_anchor_config": None,
        # Checkout makes flexible-mode subscriptions since 2025-09-30.clover (changelog:
        # docs.stripe.com/changelog/clover/2025-09-30/billing-mode-default-flexible).
        "billing_mode": {
            "flexible": {"proration_discounts": "included"},
            "type": "flexible",
            "updated_at": period_start,
        },
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": period_start,
        "currency": price_obj["currency"],
        "customer": customer_id,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {
            **stripe_list([item], f"/v1/subscription_items?subscription={sub_id}"),
            "total_count": 1,
        },
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": period_start,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def invoice(
    sub: dict[str, Any],
    cust: dict[str, Any],
    billing_reason: str,
    period: tuple[int, int],
    line_period: tuple[int, int],
) -> dict[str, Any]:
    """A draft invoice for a subscription's current item; finalizing gives it a number.

    Its `payments` are kept aside (private): an includable field, sent only when a request
    asks for `expand[]=payments`, never in a webhook payload.
    """
    item = sub["items"]["data"][0]
    price_obj, qty = item["price"], item["quantity"]
    amount = price_obj["unit_amount"] * qty
    inv_id = new_id("in_")
    created = now()
    line = {
        "id": new_id("il_"),
        "object": "line_item",
        "amount": amount,
        "currency": price_obj["currency"],
        "description": f"{qty} \u00d7 {describe_price(price_obj)}",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": inv_id,
        "livemode": False,
        "metadata": dict(sub["metadata"]),
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub["id"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"start": line_period[0], "end": line_period[1]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price_obj["id"], "product": price_obj["product"]},
            "type": "price_details",
            "unit_amount_decimal": price_obj["unit_amount_decimal"],
        },
        "quantity": qty,
        "subtotal": amount,
        "taxes": [],
    }
    return {
        "id": inv_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": None,
        "account_tax_ids": None,
        "amount_due": amount,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": amount,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": price_obj["currency"],
        "custom_fields": None,
        "customer": cust["id"],
        "customer_account": None,
        "customer_address": None,
        "customer_email": cust.get("email"),
        "customer_name": cust.get("name"),
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": 0,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {**stripe_list([line], f"/v1/invoices/{inv_id}/lines"), "total_count": 1},
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]},
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": {
            "amount_tax_display": None,
            "pdf": {"page_size": "auto"},
            "template": None,
            "template_version": None,
        },
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "test_clock": None,
        "total": amount,
        "total_discount_amounts": [],
        "total_excluding_tax": amount,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
        PAYMENTS: {**stripe_list([], f"/v1/invoice_payments?invoice={inv_id}"), "total_count": 0},
    }


def invoice_payment(inv: dict[str, Any], pi_id: str) -> dict[str, Any]:
    """An open InvoicePayment: the PaymentIntent that is to pay the invoice (fixture layout)."""
    return {
        "id": new_id("inpay_"),
        "object": "invoice_payment",
        "amount_paid": None,  # null until the payment is paid (API reference)
        "amount_requested": inv["amount_due"],
        "created": now(),
        "currency": inv["currency"],
        "invoice": inv["id"],
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": pi_id},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }
