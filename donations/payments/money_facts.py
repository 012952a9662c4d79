"""Facts about money after a payment: charges, their refunds and disputes (our own types).

A refund and a dispute each carry their own status; what they do to a payment's net amount
is decided in membership.adjustments, from these facts alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from donations.payments.metadata import CheckoutMetadata
from donations.payments.payload import dig, listed, obj_id, ts


@dataclass(frozen=True)
class RefundFact:
    """One refund of a charge, with its own status (pending, succeeded, failed, …)."""

    id: str
    charge_id: str | None
    payment_intent_id: str | None
    amount: int
    currency: str
    status: str
    created: datetime | None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RefundFact:
        """Read a refund object."""
        return cls(
            id=d["id"],
            charge_id=obj_id(d.get("charge")),
            payment_intent_id=obj_id(d.get("payment_intent")),
            amount=int(d.get("amount") or 0),
            currency=(d.get("currency") or "").lower(),
            status=d.get("status") or "",
            created=ts(d.get("created")),
        )


@dataclass(frozen=True)
class ChargeFact:
    """A charge: a payment's money movement, with the running total refunded."""

    id: str
    payment_intent_id: str | None
    customer_id: str | None
    amount: int
    amount_refunded: int
    currency: str
    status: str | None
    disputed: bool
    email: str | None
    created: datetime | None
    metadata: CheckoutMetadata = field(default_factory=CheckoutMetadata)
    # Older API versions (before 2022-11-15) list the charge's refunds in its payload.
    refunds: tuple[RefundFact, ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChargeFact:
        """Read a charge object."""
        intent = obj_id(d.get("payment_intent"))
        return cls(
            id=d["id"],
            payment_intent_id=intent,
            customer_id=obj_id(d.get("customer")),
            amount=int(d.get("amount") or 0),
            amount_refunded=int(d.get("amount_refunded") or 0),
            currency=(d.get("currency") or "").lower(),
            status=d.get("status"),
            disputed=bool(d.get("disputed")),
            email=dig(d, "billing_details", "email") or d.get("receipt_email"),
            created=ts(d.get("created")),
            metadata=CheckoutMetadata.from_stripe(d.get("metadata")),
            refunds=tuple(_listed_refund(r, d["id"], intent) for r in listed(d, "refunds")),
        )


def _listed_refund(d: dict[str, Any], charge_id: str, intent: str | None) -> RefundFact:
    refund = RefundFact.from_dict(d)
    return replace(
        refund,
        charge_id=refund.charge_id or charge_id,
        payment_intent_id=refund.payment_intent_id or intent,
    )


@dataclass(frozen=True)
class DisputeFact:
    """A dispute (chargeback) on a charge."""

    id: str
    charge_id: str | None
    payment_intent_id: str | None
    status: str
    amount: int
    currency: str
    # The object as Stripe sent it: kept while the dispute waits for its charge
    # (membership.pending_disputes), then read again.
    source: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DisputeFact:
        """Read a dispute object (its charge may be expanded: then it names the payment)."""
        return cls(
            id=d["id"],
            charge_id=obj_id(d.get("charge")),
            payment_intent_id=(
                obj_id(d.get("payment_intent")) or obj_id(dig(d, "charge", "payment_intent"))
            ),
            status=d.get("status") or "",
            amount=int(d.get("amount") or 0),
            currency=(d.get("currency") or "").lower(),
            source=d,
        )
