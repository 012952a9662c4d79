"""The metadata we write on Stripe objects and read back: one contract, one set of keys.

Checkout copies it onto the session and onto the subscription or the payment intent (and
from there to the charge and to each invoice's `parent.subscription_details`), so every
webhook can link its object to the reader and to what they chose without calling the API.
Keys and string values are a wire format: Stripe holds objects written years ago, and the
emulator reads them too. No Flask and no `stripe` here: plain data both ways.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INTERVAL = "interval"
FEE_AMOUNT = "fee_amount"
USER_ID = "user_id"
ARTICLE = "article"
# The installation that wrote it (payments.gateway.installation_tag): environments often share
# one Stripe account, and each must leave the others' objects alone (design notes §8).
SITE = "site"

ONCE = "once"  # the interval of a one-time gift; memberships are "month" or "year"


def parse_user_id(value: str | None) -> int | None:
    """Our user id from a Stripe string (metadata, client_reference_id); None if it is not one."""
    return int(value) if value and value.isdecimal() else None


def is_foreign(site: str | None, ours: str) -> bool:
    """True when an object was written by another installation: it carries a tag, not ours.

    An object with no tag (written before tags, or in the Dashboard) is not foreign.
    """
    return site is not None and site != ours


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    # Stripe's metadata values are strings; be as forgiving with anything else in there.
    return {str(k): str(v) for k, v in (mapping or {}).items()}


@dataclass(frozen=True)
class CheckoutMetadata:
    """What a Checkout carries onto Stripe: the interval, the fee covered, who, which article."""

    interval: str | None = None  # once | month | year; None when an object carries none
    fee_amount: int = 0  # minor units of the amount that cover the fee; 0 when unreadable
    user_id: int | None = None
    article: str | None = None
    site: str | None = None  # the installation that wrote it; None on older objects

    @property
    def is_gift(self) -> bool:
        """True for a one-time gift's payment; a membership's payments come from invoices."""
        return self.interval == ONCE

    def to_stripe(self) -> dict[str, str]:
        """The metadata to send to Stripe (strings only; absent values are left out)."""
        data: dict[str, str] = {}
        if self.interval is not None:
            data[INTERVAL] = self.interval
        data[FEE_AMOUNT] = str(self.fee_amount)
        if self.user_id is not None:
            data[USER_ID] = str(self.user_id)
        if self.article:
            data[ARTICLE] = self.article
        if self.site:
            data[SITE] = self.site
        return data

    @classmethod
    def from_stripe(cls, mapping: Mapping[str, Any] | None) -> CheckoutMetadata:
        """Read it back from any object that carries it; missing or garbled values are empty."""
        data = _strings(mapping)
        fee = data.get(FEE_AMOUNT)
        return cls(
            interval=data.get(INTERVAL),
            fee_amount=int(fee) if fee and fee.isdecimal() else 0,
            user_id=parse_user_id(data.get(USER_ID)),
            # Kept as Stripe has it: we only ever write a non-empty article.
            article=data.get(ARTICLE),
            site=data.get(SITE) or None,
        )


@dataclass(frozen=True)
class CustomerMetadata:
    """What we write on a Stripe customer we create: the account it belongs to, and where."""

    user_id: int | None = None
    site: str | None = None  # the installation that created it; None on older customers

    def to_stripe(self) -> dict[str, str]:
        """The customer's metadata to send to Stripe."""
        data: dict[str, str] = {}
        if self.user_id is not None:
            data[USER_ID] = str(self.user_id)
        if self.site:
            data[SITE] = self.site
        return data

    @classmethod
    def from_stripe(cls, mapping: Mapping[str, Any] | None) -> CustomerMetadata:
        """Read it back from a customer object."""
        data = _strings(mapping)
        return cls(user_id=parse_user_id(data.get(USER_ID)), site=data.get(SITE) or None)


def site_of(obj: Any) -> str | None:
    """The installation tag of a fact (its metadata) or of a raw Stripe object; None if none."""
    metadata = getattr(obj, "metadata", None)
    if isinstance(metadata, CheckoutMetadata | CustomerMetadata):
        return metadata.site
    if isinstance(obj, Mapping):
        return _strings(obj.get("metadata")).get(SITE) or None
    return None


def key_namespace(config: Any) -> str:
    """A short tag for this installation (site and secret differ per env).

    It scopes our idempotency keys, and it is the installation tag we write in the metadata
    of what we create at Stripe (metadata.SITE), so that environments sharing one account
    tell their objects apart (design notes §8). Also in `app.config["INSTALLATION_TAG"]`.
    """
    seed = f"{config['SITE_URL']}|{config['SECRET_KEY']}".encode()
    return "d" + hashlib.sha256(seed).hexdigest()[:12]
