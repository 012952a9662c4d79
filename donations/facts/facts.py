"""Stripe facts in our own types: what an event or an API object tells us, nothing more.

Built from the SDK's verified objects by the gateway; read by the membership services,
which never see a `stripe` type. Payloads of every API version read the same way: where
the layout moved, facts.payload knows both places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from donations.facts import payload, subscription_state
from donations.facts.envelope import check_envelope
from donations.facts.metadata import CheckoutMetadata
from donations.facts.money_facts import (
    BalanceTransactionFact,
    ChargeFact,
    DisputeFact,
    RefundFact,
)
from donations.facts.payload import dig, listed, obj_id, ts
from donations.facts.subscription_state import SubscriptionState

__all__ = [
    "BalanceTransactionFact",
    "ChargeFact",
    "CheckoutFact",
    "DisputeFact",
    "EventFact",
    "InvoiceFact",
    "InvoicePaymentFact",
    "RefundFact",
    "SubscriptionFact",
    "parse_event_object",
]


@dataclass(frozen=True, kw_only=True)
class SubscriptionFact(SubscriptionState):
    """A subscription's state at one moment, with who it is about."""

    id: str
    customer_id: str | None
    metadata: CheckoutMetadata = field(default_factory=CheckoutMetadata)
    # An `*.updated` event's data.previous_attributes: what changed, with its old values ...
    previous_attributes: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    # ... and so the subscription as it was just before (breaks same-second ties).
    before: SubscriptionFact | None = field(default=None, compare=False, hash=False)

    @classmethod
    def from_dict(
        cls, d: dict[str, Any], previous_attributes: dict[str, Any] | None = None
    ) -> SubscriptionFact:
        """Read a subscription object, in the current layout or an older one."""
        return cls(
            **subscription_state.from_payload(d),
            previous_attributes=previous_attributes,
            before=_before(d, previous_attributes),
            id=d["id"],
            customer_id=obj_id(d.get("customer")),
            metadata=CheckoutMetadata.from_stripe(d.get("metadata")),
        )


def _before(d: dict[str, Any], previous: dict[str, Any] | None) -> SubscriptionFact | None:
    """The subscription before an update, or None when the event does not say (or garbles it)."""
    if not previous:
        return None
    try:
        return SubscriptionFact.from_dict(payload.as_before(d, previous))
    except (KeyError, TypeError, ValueError):
        return None  # only a tie-breaker: without it, ties go by rank


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
            invoice_id=obj_id(d.get("invoice")) or "",
            payment_intent_id=obj_id(dig(d, "payment", "payment_intent")),
            amount_paid=int(d.get("amount_paid") or 0),
            currency=(d.get("currency") or "").lower(),
            status=d.get("status"),
            paid_at=ts(dig(d, "status_transitions", "paid_at")) or ts(d.get("created")),
        )


@dataclass(frozen=True)
class InvoiceFact:
    """An invoice: what was paid, and for which subscription (None for a one-off invoice)."""

    id: str
    customer_id: str | None
    subscription_id: str | None
    # Named on the invoice in older API versions only; else invoice_payment.paid names it.
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
    # False when the invoice carries no copy of the subscription's metadata (older layouts):
    # then only the subscription id links the payment to its membership.
    has_metadata: bool = True
    # `payments` appears only when an API call expands it, never in a webhook: `stripe sync`
    # reads it, the webhook handlers must not.
    expanded_payments: tuple[InvoicePaymentFact, ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InvoiceFact:
        """Read an invoice object, in the current layout or an older one."""
        metadata = payload.invoice_subscription_metadata(d)
        return cls(
            id=d["id"],
            customer_id=obj_id(d.get("customer")),
            subscription_id=payload.invoice_subscription(d),
            payment_intent_id=payload.invoice_payment_intent(d),
            status=d.get("status"),
            billing_reason=d.get("billing_reason"),
            amount_paid=int(d.get("amount_paid") or 0),
            amount_due=int(d.get("amount_due") or 0),
            currency=(d.get("currency") or "").lower(),
            email=d.get("customer_email"),
            paid_at=ts(dig(d, "status_transitions", "paid_at")) or ts(d.get("created")),
            attempt_count=int(d.get("attempt_count") or 0),
            metadata=CheckoutMetadata.from_stripe(metadata),
            has_metadata=bool(metadata),
            expanded_payments=tuple(
                InvoicePaymentFact.from_dict({"invoice": d["id"], **p})
                for p in listed(d, "payments")
            ),
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
    # The payment intent's creation, known only when an API call expanded it (sync).
    paid_at: datetime | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckoutFact:
        """Read a checkout.session object."""
        return cls(
            id=d["id"],
            mode=d.get("mode") or "payment",
            status=d.get("status"),
            payment_status=d.get("payment_status"),
            customer_id=obj_id(d.get("customer")),
            email=dig(d, "customer_details", "email") or d.get("customer_email"),
            client_reference_id=d.get("client_reference_id"),
            subscription_id=obj_id(d.get("subscription")),
            payment_intent_id=obj_id(d.get("payment_intent")),
            amount_total=int(d.get("amount_total") or 0),
            currency=(d.get("currency") or "").lower(),
            created=ts(d.get("created")),
            metadata=CheckoutMetadata.from_stripe(d.get("metadata")),
            paid_at=ts(dig(d, "payment_intent", "created")),
        )

    @property
    def is_paid(self) -> bool:
        """True once Checkout has the money, or there was nothing to pay."""
        return self.payment_status in ("paid", "no_payment_required")


PARSERS = {
    "invoice_payment": InvoicePaymentFact.from_dict,
    "subscription": SubscriptionFact.from_dict,
    "invoice": InvoiceFact.from_dict,
    "checkout.session": CheckoutFact.from_dict,
    "charge": ChargeFact.from_dict,
    "refund": RefundFact.from_dict,
    "dispute": DisputeFact.from_dict,
    "balance_transaction": BalanceTransactionFact.from_dict,
}


def parse_event_object(d: dict[str, Any], previous_attributes: dict[str, Any] | None = None) -> Any:
    """Parse an API object into its fact type, or return the dict for other objects.

    An `*.updated` event's previous_attributes go with a subscription (transitions reads them).
    """
    if d.get("object") == "subscription":
        return SubscriptionFact.from_dict(d, previous_attributes)
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
    # The API version Stripe shaped the payload in (the endpoint's, fixed at its creation).
    api_version: str | None = None
    # `*.updated` events only: the changed fields' values before the event.
    previous_attributes: dict[str, Any] | None = None

    def parsed_object(self) -> Any:
        """The event's object as our fact type (with its previous_attributes where they matter)."""
        return parse_event_object(self.object, self.previous_attributes)

    @property
    def object_id(self) -> str | None:
        """Id of the object the event is about."""
        return self.object.get("id")

    @property
    def customer_id(self) -> str | None:
        """The Stripe customer the event concerns, when it names one."""
        if self.object.get("object") == "customer":
            return self.object.get("id")
        return obj_id(self.object.get("customer"))

    @classmethod
    def from_payload(cls, d: dict[str, Any], raw: str | None) -> EventFact:
        """Build from an event's JSON structure; raise ValueError if it is not an event."""
        check_envelope(d)  # MalformedEvent is a ValueError: the webhook answers 400
        try:
            return cls(
                id=str(d["id"]),
                type=str(d["type"]),
                created=ts(d["created"]) or datetime.fromtimestamp(0, UTC),
                livemode=bool(d.get("livemode")),
                object=dict(d["data"]["object"]),
                raw=raw,
                api_version=str(d["api_version"]) if d.get("api_version") else None,
                previous_attributes=_previous(d["data"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a Stripe event: missing {exc}") from None


def _previous(data: dict[str, Any]) -> dict[str, Any] | None:
    """An event's data.previous_attributes when it is a hash (they are only a hint)."""
    previous = data.get("previous_attributes")
    return dict(previous) if isinstance(previous, dict) and previous else None
