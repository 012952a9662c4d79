"""Disputes: a chargeback or an inquiry on a charge, moved through the pinned API's statuses.

A chargeback emits `charge.dispute.created` and `charge.dispute.funds_withdrawn`; answering it
`charge.dispute.updated` (under review); its end `charge.dispute.closed` (won or lost), and a
won one `charge.dispute.funds_reinstated` (shared/stripe-behaviour.md, "Sequences"). An
inquiry (`warning_*`) moves no money until it escalates to a chargeback (`needs_response`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from . import balance
from .errors import EmulatorError
from .forms import reject_unknown
from .listing import filter_created, filter_eq, paginate
from .objects import new_id, now
from .refunds import DISPUTE_KEY
from .routing import fetch
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

# Dispute.status of the pinned API (stripe-python v16, API 2026-10-28.endive).
STATUSES = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "appeal_needs_response",
    "appeal_under_review",
    "won",
    "lost",
    "prevented",
)
CLOSED = ("won", "lost", "warning_closed", "prevented")
INQUIRY = ("warning_needs_response", "warning_under_review", "warning_closed")
# Every field of a dispute's `evidence`, empty until the merchant responds (fixture layout).
EVIDENCE_FIELDS = [
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
]


def dispute(
    emu: Emulator,
    charge_id: str,
    close_as: Literal["won", "lost"] | None = None,
    *,
    inquiry: bool = False,
    status: str | None = None,
) -> dict[str, Any]:
    """Open a dispute on a charge if it has none; then move it to `status` or close it."""
    if close_as not in (None, "won", "lost"):
        raise EmulatorError("close_as must be 'won' or 'lost'.")
    if status is not None and status not in STATUSES:
        raise EmulatorError(f"status must be one of {', '.join(STATUSES)}.")
    with emu.transaction() as tx:
        ch = tx.get(charge_id, "charge")
        if ch is None:
            raise EmulatorError(f"No such charge: {charge_id}")
        if ch["status"] != "succeeded":
            raise EmulatorError(f"Charge {charge_id} did not succeed; it cannot be disputed.")
        dp = tx.get(ch.get(DISPUTE_KEY) or "", "dispute")
        if dp is None:
            dp = _open(emu, tx, ch, inquiry)
        elif dp["status"] in CLOSED:
            raise EmulatorError(f"The dispute on {charge_id} is already closed ({dp['status']}).")
        elif status is None and close_as is None:
            raise EmulatorError(f"Charge {charge_id} already has an open dispute.")
        if status is not None:
            move(emu, tx, dp, status)
        if close_as is not None:
            if dp["status"] in INQUIRY:
                raise EmulatorError(
                    "An inquiry closes as warning_closed or escalates to needs_response; "
                    "pass that as status."
                )
            if dp["status"] in CLOSED:
                raise EmulatorError(f"The dispute on {charge_id} is already {dp['status']}.")
            if dp["status"] in ("needs_response", "appeal_needs_response"):
                # Submitting evidence puts the dispute under review before the bank decides.
                move(emu, tx, dp, dp["status"].replace("needs_response", "under_review"))
            move(emu, tx, dp, close_as)
        return dp


def _open(emu: Emulator, tx: Tx, ch: dict[str, Any], inquiry: bool) -> dict[str, Any]:
    dp = tx.put(_new_dispute(ch, inquiry=inquiry))
    ch["disputed"] = True
    ch[DISPUTE_KEY] = dp["id"]
    tx.put(ch)
    emu.emit(tx, "charge.dispute.created", dp)
    if not inquiry:
        _withdraw(emu, tx, dp)
    return dp


def _withdraw(emu: Emulator, tx: Tx, dp: dict[str, Any]) -> None:
    # The withdrawal carries the dispute fee (balance.py).
    dp["balance_transactions"].append(balance.for_dispute(emu, tx, dp, reinstated=False))
    dp["is_charge_refundable"] = False
    tx.put(dp)
    emu.emit(tx, "charge.dispute.funds_withdrawn", dp)


def move(emu: Emulator, tx: Tx, dp: dict[str, Any], status: str) -> dict[str, Any]:
    """Change an open dispute's status, emitting what Stripe emits for that step."""
    current = dp["status"]
    if current in CLOSED:
        raise EmulatorError(f"Dispute {dp['id']} is already closed ({current}).")
    if status == current:
        raise EmulatorError(f"Dispute {dp['id']} is already {status}.")
    if current not in INQUIRY and status in INQUIRY:
        raise EmulatorError("A chargeback cannot become an inquiry again.")
    if current in INQUIRY and status not in (*INQUIRY, "needs_response", "prevented"):
        raise EmulatorError("An inquiry escalates to needs_response before anything else.")
    previous = {"status": current}
    dp["status"] = status
    if current in INQUIRY and status not in (*INQUIRY, "prevented"):
        # An inquiry escalated to a chargeback: now the funds are withdrawn.
        dp["payment_method_details"]["card"]["case_type"] = "chargeback"
        _withdraw(emu, tx, dp)
    if status.endswith("under_review"):
        dp["evidence_details"].update(has_evidence=True, submission_count=1)
    tx.put(dp)
    if status not in CLOSED:
        emu.emit(tx, "charge.dispute.updated", dp, previous_attributes=previous)
        return dp
    emu.emit(tx, "charge.dispute.closed", dp, previous_attributes=previous)
    if status == "won" and dp["balance_transactions"]:
        dp["balance_transactions"].append(balance.for_dispute(emu, tx, dp, reinstated=True))
        tx.put(dp)
        emu.emit(tx, "charge.dispute.funds_reinstated", dp)
    return dp


def _new_dispute(ch: dict[str, Any], *, inquiry: bool = False) -> dict[str, Any]:
    """A dispute opened on a charge: a chargeback, or an inquiry (no funds move yet)."""
    created = now()
    return {
        "id": new_id("dp_"),
        "object": "dispute",
        "amount": ch["amount"],
        "balance_transactions": [],
        "charge": ch["id"],
        "created": created,
        "currency": ch["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": created + 21 * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        # An inquiry can still be refunded; a chargeback cannot (API reference).
        "is_charge_refundable": inquiry,
        "livemode": False,
        "metadata": {},
        "payment_intent": ch["payment_intent"],
        "payment_method_details": {
            "card": {
                "brand": ch["payment_method_details"]["card"]["brand"],
                "case_type": "inquiry" if inquiry else "chargeback",
                "network": ch["payment_method_details"]["card"]["network"],
                "network_reason_code": "10.4",
            },
            "type": "card",
        },
        "reason": "general" if inquiry else "fraudulent",
        "status": "warning_needs_response" if inquiry else "needs_response",
    }


# GET /v1/disputes takes these (API reference, "List all disputes"; stripe-python v16
# DisputeListParams); `expand` is allowed everywhere.
LIST_PARAMS = {"charge", "created", "ending_before", "limit", "payment_intent", "starting_after"}


def api_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], dispute_id: str) -> dict[str, Any]:
    """GET /v1/disputes/{id}."""
    return fetch(tx, "dispute", dispute_id)


def api_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """GET /v1/disputes: newest first, by charge or payment_intent and `created` bounds."""
    reject_unknown(params, LIST_PARAMS)
    items = filter_created(tx.list("dispute"), params)
    items = filter_eq(items, params, "charge", "payment_intent")
    return paginate(items, params, "/v1/disputes")
