"""Stripe facts in our own types: what an event or an API object tells us, nothing more.

Built from the SDK's verified objects by the gateway; read by the membership services,
which never see a `stripe` type. Field paths follow Stripe's current API layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from donations.payments.metadata import CheckoutMetadata


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def _dig(data: dict[str, Any], *path: str | int) -> Any:
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)  # type: ignore[assignment]
        elif isinstance(data, list) and isinstance(key, int) and len(data) > key:
            data = data[key]
        else:
            return None
        if data is None:
            return None
    return data


@dataclass(frozen=True)
class SubscriptionFact:
    """A subscription's state at one moment."""

    id: str
    customer_id: str | None
    status: str
    cancel_at_period_end: bool
    current_period_end: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    interval: str | None
    amount: int
    currency: str
    metadata: CheckoutMetadata = field(default_factory=CheckoutMetadata)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubscriptionFact:
        """Read a subscription (period end on its first item; at the top before basil)."""
        item = _dig(d, "items", "data", 0) or {}
        price = item.get("price") or {}
        return cls(
            id=d["id"],
            customer_id=_id(d.get("customer")),
            status=d["status"],
            cancel_at_period_end=bool(d.get("cancel_at_period_end")),
            current_period_end=_ts(item.get("current_period_end") or d.get("current_period_end")),
            started_at=_ts(d.get("start_date")),
            ended_at=_ts(d.get("ended_at")),
            interval=_dig(price, "recurring", "interval"),
            amount=int(price.get("unit_amount") or 0) * int(item.get("quantity") or 1),
            currency=(d.get("currency") or price.get("currency") or "").lower(),
            metadata=CheckoutMetadata.from_stripe(d.get("metadata")),
        )


@dataclass(frozen=True)
class InvoiceFact:
    """An invoice of a subscription: what was paid, for which subscription."""

    id: str
    customer_id: str | None
    subscription_id: str | None
    payment_intent_id: str | None
    status: str | None
    billing_reason: str | None
    amount_paid: int
    amount_due: int
    currency: str
    email: str | None
    paid_at: datetime | None
    attempt_count: int = 0
    metadata: CheckoutMetadata = field(default_factory=CheckoutMetadata)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InvoiceFact:
        """Read an invoice (subscription in parent.subscription_details; at the top pre-basil)."""
        details = _dig(d, "parent", "subscription_details") or d.get("subscription_details") or {}
        payments = _dig(d, "payments", "data") or []
        intent = next(
            (_id(_dig(p, "payment", "payment_intent")) for p in payments if p.get("payment")),
            None,
        )
        return cls(
            id=d["id"],
            customer_id=_id(d.get("customer")),
            subscription_id=_id(details.get("subscription") or d.get("subscription")),
            payment_intent_id=intent or _id(d.get("payment_intent")),
            status=d.get("status"),
            billing_reason=d.get("billing_reason"),
            amount_paid=int(d.get("amount_paid") or 0),
            amount_due=int(d.get("amount_due") or 0),
            currency=(d.get("currency") or "").lower(),
            email=d.get("customer_email"),
            paid_at=_ts(_dig(d, "status_transitions", "paid_at")) or _ts(d.get("created")),
            attempt_count=int(d.get("attempt_count") or 0),
            metadata=CheckoutMetadata.from_stripe(details.get("metadata")),
        )


@dataclass(frozen=True)
class CheckoutFact:
    """A Checkout Session at completion (or expiry)."""

    id: str
    mode: str
    status: str | None
    payment_status: str | None
    customer_id: str | None
    email: str | None
    client_reference_id: str | None
    subscription_id: str | None
    payment_intent_id: str | None
    amount_total: int
    currency: str
    created: datetime | None
    metadata: CheckoutMetadata = field(default_factory=CheckoutMetadata)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckoutFact:
        """Read a checkout.session object."""
        return cls(
            id=d["id"],
            mode=d.get("mode") or "payment",
            status=d.get("status"),
            payment_status=d.get("payment_status"),
            customer_id=_id(d.get("customer")),
            email=_dig(d, "customer_details", "email") or d.get("customer_email"),
            client_reference_id=d.get("client_reference_id"),
            subscription_id=_id(d.get("subscription")),
            payment_intent_id=_id(d.get("payment_intent")),
            amount_total=int(d.get("amount_total") or 0),
            currency=(d.get("currency") or "").lower(),
            created=_ts(d.get("created")),
            metadata=CheckoutMetadata.from_stripe(d.get("metadata")),
        )

    @property
    def is_paid(self) -> bool:
        """True once Checkout has the money, or there was nothing to pay."""
        return self.payment_status in ("paid", "no_payment_required")


@dataclass(frozen=True)
class ChargeFact:
    """A charge: a payment's money movement, with refunds and disputes."""

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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChargeFact:
        """Read a charge object."""
        return cls(
            id=d["id"],
            payment_intent_id=_id(d.get("payment_intent")),
            customer_id=_id(d.get("customer")),
            amount=int(d.get("amount") or 0),
            amount_refunded=int(d.get("amount_refunded") or 0),
            currency=(d.get("currency") or "").lower(),
            status=d.get("status"),
            disputed=bool(d.get("disputed")),
            email=_dig(d, "billing_details", "email") or d.get("receipt_email"),
            created=_ts(d.get("created")),
            metadata=CheckoutMetadata.from_stripe(d.get("metadata")),
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DisputeFact:
        """Read a dispute object."""
        return cls(
            id=d["id"],
            charge_id=_id(d.get("charge")),
            payment_intent_id=_id(d.get("payment_intent")),
            status=d.get("status") or "",
            amount=int(d.get("amount") or 0),
            currency=(d.get("currency") or "").lower(),
        )


@dataclass(frozen=True)
class InvoicePaymentFact:
    """The link between an invoice and the payment intent that paid it."""

    id: str
    invoice_id: str
    payment_intent_id: str | None
    amount_paid: int
    currency: str
    status: str | None
    paid_at: datetime | None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InvoicePaymentFact:
        """Read an invoice_payment object."""
        return cls(
            id=d["id"],
            invoice_id=_id(d.get("invoice")) or "",
            payment_intent_id=_id(_dig(d, "payment", "payment_intent")),
            amount_paid=int(d.get("amount_paid") or 0),
            currency=(d.get("currency") or "").lower(),
            status=d.get("status"),
            paid_at=_ts(_dig(d, "status_transitions", "paid_at")) or _ts(d.get("created")),
        )


PARSERS = {
    "invoice_payment": InvoicePaymentFact.from_dict,
    "subscription": SubscriptionFact.from_dict,
    "invoice": InvoiceFact.from_dict,
    "checkout.session": CheckoutFact.from_dict,
    "charge": ChargeFact.from_dict,
    "dispute": DisputeFact.from_dict,
}


def parse_event_object(d: dict[str, Any]) -> Any:
    """Parse an API object into its fact type, or return the dict for other objects."""
    parser = PARSERS.get(d.get("object", ""))
    return parser(d) if parser else d


@dataclass(frozen=True)
class EventFact:
    """A verified Stripe event: envelope plus its object, still as plain data."""

    id: str
    type: str
    created: datetime
    livemode: bool
    object: dict[str, Any]
    raw: str | None = None

    @property
    def object_id(self) -> str | None:
        """Id of the object the event is about."""
        return self.object.get("id")

    @property
    def customer_id(self) -> str | None:
        """The Stripe customer the event concerns, when it names one."""
        if self.object.get("object") == "customer":
            return self.object.get("id")
        return _id(self.object.get("customer"))

    @classmethod
    def from_payload(cls, d: dict[str, Any], raw: str | None) -> EventFact:
        """Build from an event's JSON structure; raise ValueError if it is not an event."""
        try:
            return cls(
                id=str(d["id"]),
                type=str(d["type"]),
                created=_ts(d["created"]) or datetime.fromtimestamp(0, UTC),
                livemode=bool(d.get("livemode")),
                object=dict(d["data"]["object"]),
                raw=raw,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a Stripe event: missing {exc}") from None
