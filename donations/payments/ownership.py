"""Which Stripe objects are this site's: the rule of STRIPE_ACCOUNT_SHARED (design §4).

What we create carries our installation tag (metadata.SITE, written at Checkout creation
on the session, the subscription or the payment intent, and copied by Stripe onto invoices
and charges). On a dedicated account (`0`, the default) everything else is ours too, as it
always was. On a shared account (`1`) an object without a tag is ours only when it is
linked to something we already count or that staff adopted: a renewal's invoice through its
subscription, a charge, refund or dispute through its payment intent or charge. The rest is
foreign: stored, shown to staff, counted nowhere. An object tagged by another installation
is never ours (facts.metadata.is_foreign), whatever the setting.

The customer is deliberately no link: one person may pay us and the shop with one customer.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import exists, literal, or_, select, text

from donations.extensions import db
from donations.facts.facts import (
    ChargeFact,
    CheckoutFact,
    DisputeFact,
    InvoiceFact,
    InvoicePaymentFact,
    RefundFact,
    SubscriptionFact,
)
from donations.facts.metadata import site_of
from donations.facts.money_facts import BalanceTransactionFact
from donations.membership.locking import get_or_create_locked
from donations.models import (
    Adoption,
    CheckoutAttempt,
    Donation,
    FailedPayment,
    ForeignObject,
    InvoicePayment,
    Membership,
    PaymentAdjustment,
    StripeEvent,
    User,
    utcnow,
)


class Owner(StrEnum):
    """Whose an object is, as far as this site is concerned."""

    OURS = "ours"
    FOREIGN = "foreign"  # untagged and linked to nothing of ours, on a shared account
    OTHER_INSTALLATION = "other_installation"  # tagged by another installation


@dataclass(frozen=True)
class OwnershipKeys:
    """The Stripe ids an object is linked by, and the owner its events are held under."""

    own: str | None
    root: str | None  # the subscription or payment (intent) it belongs to, else itself
    subscription: str | None = None
    invoice: str | None = None
    payment_intents: tuple[str, ...] = ()
    charge: str | None = None
    session: str | None = None
    customer: str | None = None  # only a customer object's own id (see the module note)

    def all(self) -> frozenset[str]:
        """Every id above: an event held under any of them belongs with this object."""
        ids = (self.own, self.root, self.subscription, self.invoice, self.charge, self.session)
        return frozenset(i for i in (*ids, *self.payment_intents) if i)


def _intents(*ids: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in ids if i))


def keys_of(obj: Any) -> OwnershipKeys:
    """The ownership keys of a fact (or a raw Stripe object such as a customer)."""
    if isinstance(obj, SubscriptionFact):
        return OwnershipKeys(own=obj.id, root=obj.id, subscription=obj.id)
    if isinstance(obj, CheckoutFact):
        return OwnershipKeys(
            own=obj.id,
            root=obj.subscription_id or obj.payment_intent_id or obj.id,
            subscription=obj.subscription_id,
            payment_intents=_intents(obj.payment_intent_id),
            session=obj.id,
        )
    if isinstance(obj, InvoiceFact):
        paid_by = [p.payment_intent_id for p in obj.expanded_payments]
        return OwnershipKeys(
            own=obj.id,
            root=obj.subscription_id or obj.id,
            subscription=obj.subscription_id,
            invoice=obj.id,
            payment_intents=_intents(obj.payment_intent_id, *paid_by),
        )
    if isinstance(obj, InvoicePaymentFact):
        # Held under its invoice: the invoice is what becomes ours first (it carries the tag).
        return OwnershipKeys(
            own=obj.id,
            root=obj.invoice_id or obj.id,
            invoice=obj.invoice_id or None,
            payment_intents=_intents(obj.payment_intent_id),
        )
    if isinstance(obj, ChargeFact):
        return OwnershipKeys(
            own=obj.id,
            root=obj.payment_intent_id or obj.id,
            payment_intents=_intents(obj.payment_intent_id),
            charge=obj.id,
        )
    if isinstance(obj, BalanceTransactionFact):
        # A fee or a net follows the payment it moved money for (sync lists them untagged).
        return OwnershipKeys(
            own=obj.id,
            root=obj.payment_intent_id or obj.charge_id or obj.id,
            payment_intents=_intents(obj.payment_intent_id),
            charge=obj.charge_id,
        )
    if isinstance(obj, RefundFact | DisputeFact):
        return OwnershipKeys(
            own=obj.id,
            root=obj.payment_intent_id or obj.charge_id or obj.id,
            payment_intents=_intents(obj.payment_intent_id),
            charge=obj.charge_id,
        )
    own = obj.get("id") if isinstance(obj, dict) else None
    customer = own if isinstance(obj, dict) and obj.get("object") == "customer" else None
    return OwnershipKeys(own=own, root=own, customer=customer)


def account_shared() -> bool:
    """The STRIPE_ACCOUNT_SHARED setting of the current app (read, like the grace days, here)."""
    return bool(current_app.config.get("STRIPE_ACCOUNT_SHARED", False))


def decide(obj: Any, installation: str, *, shared: bool | None = None) -> Owner:
    """Whose the object is: by its tag, else (on a shared account) by what it is linked to."""
    site = site_of(obj)
    if site is not None:
        return Owner.OURS if site == installation else Owner.OTHER_INSTALLATION
    if not (account_shared() if shared is None else shared):
        return Owner.OURS
    keys = keys_of(obj)
    serialise(keys.all())
    return Owner.OURS if known_ours(keys) else Owner.FOREIGN


def serialise(ids: Iterable[str]) -> None:
    """Take a lock per id until the transaction ends (PostgreSQL; SQLite writes one at a time).

    A related event deciding "foreign" and the event making its object ours may run at once:
    both lock their shared ids, so the second always sees what the first committed.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for lock in sorted({zlib.crc32(i.encode()) for i in ids}):  # one order: no deadlock
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})


def _any(*conditions: Any) -> bool:
    return bool(db.session.scalar(select(or_(*conditions))))


def known_ours(keys: OwnershipKeys) -> bool:
    """Whether any key names something we count, hold a link of, or staff adopted."""
    ids = keys.all() | {keys.customer} - {None}
    conditions: list[Any] = [exists().where(Adoption.stripe_object_id.in_(ids))]
    if keys.subscription:
        conditions += [
            exists().where(Membership.stripe_subscription_id == keys.subscription),
            exists().where(Donation.stripe_subscription_id == keys.subscription),
        ]
    if keys.invoice:
        conditions += [
            exists().where(Donation.stripe_invoice_id == keys.invoice),
            exists().where(InvoicePayment.stripe_invoice_id == keys.invoice),
            exists().where(FailedPayment.stripe_invoice_id == keys.invoice),
        ]
    if keys.payment_intents:
        intents = list(keys.payment_intents)
        conditions += [
            exists().where(Donation.stripe_payment_intent_id.in_(intents)),
            exists().where(InvoicePayment.stripe_payment_intent_id.in_(intents)),
            exists().where(PaymentAdjustment.stripe_payment_intent_id.in_(intents)),
        ]
    if keys.charge:
        conditions += [
            exists().where(PaymentAdjustment.stripe_charge_id == keys.charge),
            # A charge we applied may leave no row (a membership charge without refunds).
            exists().where(
                StripeEvent.object_id == keys.charge,
                StripeEvent.type.like("charge.%"),
                StripeEvent.status == "processed",
            ),
        ]
    if keys.session:
        conditions.append(exists().where(CheckoutAttempt.stripe_session_id == keys.session))
    if keys.customer:
        conditions.append(exists().where(User.stripe_customer_id == keys.customer))
    return _any(literal(False), *conditions)


# --- what staff see: one row per foreign subscription or payment --------------------------


def _listed(obj: Any, at: datetime) -> tuple[dict[str, Any], bool] | None:
    """The foreign-object row a fact tells of, and whether it is the authority on it."""
    if isinstance(obj, SubscriptionFact):
        every = obj.interval if obj.interval_count == 1 else f"{obj.interval_count} {obj.interval}s"
        return {
            "stripe_id": obj.id,
            "kind": "subscription",
            "amount": obj.amount,
            "currency": obj.currency,
            "created": obj.started_at or at,
            "description": f"subscription, every {every}, {obj.status}",
            "stripe_customer_id": obj.customer_id,
        }, True
    if isinstance(obj, CheckoutFact) and obj.mode == "payment" and obj.payment_intent_id:
        return {
            "stripe_id": obj.payment_intent_id,
            "kind": "payment",
            "amount": obj.amount_total,
            "currency": obj.currency,
            "created": obj.created or at,
            "description": f"Checkout payment {obj.id}",
            "stripe_customer_id": obj.customer_id,
        }, True
    subscription = getattr(obj, "subscription_id", None)
    if isinstance(obj, CheckoutFact | InvoiceFact) and subscription:
        amount = obj.amount_total if isinstance(obj, CheckoutFact) else obj.amount_due
        return {
            "stripe_id": subscription,
            "kind": "subscription",
            "amount": amount,
            "currency": obj.currency,
            "created": at,
            "description": f"subscription (seen on {obj.id})",
            "stripe_customer_id": obj.customer_id,
        }, False
    return None


def note_foreign(obj: Any, at: datetime) -> None:
    """Keep (or refresh) the staff's row for the subscription or payment a foreign fact names."""
    listed = _listed(obj, at)
    if listed is None:
        return
    values, authority = listed
    currency = str(values["currency"] or "")
    if len(currency) != 3 or not currency.isalpha() or values["amount"] < 0:
        return  # nothing a person could read as money: the ledger still holds the event
    values["currency"] = currency.lower()
    values["description"] = values["description"][:255]
    row = get_or_create_locked(ForeignObject, ForeignObject.stripe_id, values["stripe_id"], values)
    row.last_seen_at = utcnow()
    if authority:  # a subscription's own events say what it is now; an invoice only hints
        for name in ("amount", "currency", "description", "created", "stripe_customer_id"):
            setattr(row, name, values[name])
    db.session.flush()
