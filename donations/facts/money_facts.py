"""Facts about money after a payment: charges, their refunds and disputes (our own types).

A refund and a dispute each carry their own status; what they do to a payment's net amount
is decided in membership.adjustments, from these facts alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from donations.facts.metadata import CheckoutMetadata
from donations.facts.payload import dig, listed, obj_id, ts


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


# Reporting categories of the balance transactions that make a payment's net (Stripe's
# "Reporting categories" for balance transactions): the payment, its refunds (and their
# failures, money back), and its disputes (withdrawn with the dispute fee, or reinstated).
PAYMENT_CATEGORIES = frozenset(
    {"charge", "refund", "refund_failure", "dispute", "dispute_reversal"}
)


@dataclass(frozen=True)
class BalanceTransactionFact:
    """What Stripe moved on the balance for a charge, refund or dispute: amount, fee, net.

    In the account's settlement currency. The links (payment intent, charge, refund,
    dispute) come from the source when it is expanded, or from the object that lists it.
    """

    id: str
    type: str
    reporting_category: str
    amount: int
    fee: int
    net: int
    currency: str
    exchange_rate: str | None
    created: datetime | None
    source_id: str | None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    refund_id: str | None = None
    dispute_id: str | None = None
    # The expanded source's metadata: a charge carries our installation's tag.
    metadata: CheckoutMetadata = field(default_factory=CheckoutMetadata)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BalanceTransactionFact:
        """Read a balance transaction (its `source` expanded or not)."""
        source = d.get("source")
        links = _links(source) if isinstance(source, dict) else {}
        rate = d.get("exchange_rate")
        return cls(
            id=d["id"],
            type=d.get("type") or "",
            reporting_category=d.get("reporting_category") or d.get("type") or "",
            amount=int(d.get("amount") or 0),
            fee=int(d.get("fee") or 0),
            net=int(d.get("net") or 0),
            currency=(d.get("currency") or "").lower(),
            # Stripe sends a JSON number: kept as its text, never through a binary float sum.
            exchange_rate=None if rate is None else str(rate),
            created=ts(d.get("created")),
            source_id=obj_id(source),
            metadata=CheckoutMetadata.from_stripe(
                source.get("metadata") if isinstance(source, dict) else None
            ),
            **links,
        )

    @property
    def of_a_payment(self) -> bool:
        """True for a payment's own money: its charge, refunds and disputes."""
        return self.reporting_category in PAYMENT_CATEGORIES


def _links(source: dict[str, Any]) -> dict[str, str | None]:
    """The payment, charge, refund or dispute an expanded source names."""
    kind = source.get("object")
    charge = obj_id(source.get("charge"))
    intent = obj_id(source.get("payment_intent")) or obj_id(dig(source, "charge", "payment_intent"))
    if kind == "charge":
        return {"payment_intent_id": intent, "charge_id": source.get("id")}
    if kind == "refund":
        return {"payment_intent_id": intent, "charge_id": charge, "refund_id": source.get("id")}
    if kind == "dispute":
        return {"payment_intent_id": intent, "charge_id": charge, "dispute_id": source.get("id")}
    return {}


@dataclass(frozen=True)
class DisputeFact:
    """A dispute (chargeback) on a charge."""

    id: str
    charge_id: str | None
    payment_intent_id: str | None
    status: str
    amount: int
    currency: str
    # Its withdrawal (with the dispute fee) and reinstatement, listed in full on the dispute.
    balance_transactions: tuple[BalanceTransactionFact, ...] = ()
    # The object as Stripe sent it: kept while the dispute waits for its charge
    # (membership.pending_disputes), then read again.
    source: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DisputeFact:
        """Read a dispute object (its charge may be expanded: then it names the payment)."""
        charge = obj_id(d.get("charge"))
        intent = obj_id(d.get("payment_intent")) or obj_id(dig(d, "charge", "payment_intent"))
        listed_txns = d.get("balance_transactions")
        return cls(
            id=d["id"],
            charge_id=charge,
            payment_intent_id=intent,
            balance_transactions=tuple(
                replace(
                    BalanceTransactionFact.from_dict(t),
                    payment_intent_id=intent,
                    charge_id=charge,
                    dispute_id=d["id"],
                )
                for t in (listed_txns if isinstance(listed_txns, list) else [])
                if isinstance(t, dict) and t.get("id")
            ),
            status=d.get("status") or "",
            amount=int(d.get("amount") or 0),
            currency=(d.get("currency") or "").lower(),
            source=d,
        )
