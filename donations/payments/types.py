"""Our words for payments, as the gateway speaks them to the rest of the app (no `stripe` here).

The gateway (the one module that imports `stripe`) takes and returns these types, and turns
Stripe's errors into the ones below, so callers never handle a Stripe class.
"""

from __future__ import annotations

from dataclasses import dataclass

from donations.payments.metadata import ONCE, CheckoutMetadata


class PaymentError(Exception):
    """A payment problem with a message a reader can be shown as it is."""


class PaymentUnavailable(PaymentError):
    """Stripe could not be reached or refused us; nothing the reader did wrong."""


class CardDeclined(PaymentError):
    """The card was declined or is invalid."""


class InvalidWebhook(ValueError):
    """A webhook whose signature, timestamp or JSON is not acceptable."""


@dataclass(frozen=True)
class CheckoutRequest:
    """What to ask Stripe Checkout for, in our words."""

    interval: str  # once | month | year (metadata.ONCE for a gift)
    amount: int  # gross minor units per payment
    currency: str
    product_name: str
    success_url: str  # must contain {CHECKOUT_SESSION_ID}
    cancel_url: str
    idempotency_key: str
    fee_amount: int = 0
    user_id: int | None = None
    customer_id: str | None = None
    email: str | None = None
    article: str | None = None

    @property
    def mode(self) -> str:
        """Stripe's Checkout mode for this interval."""
        return "payment" if self.interval == ONCE else "subscription"

    def metadata(self, site: str | None = None) -> dict[str, str]:
        """Metadata copied onto the session, subscription or payment intent (tagged `site`)."""
        return CheckoutMetadata(
            interval=self.interval,
            fee_amount=self.fee_amount,
            user_id=self.user_id,
            article=self.article,
            site=site,
        ).to_stripe()


@dataclass(frozen=True)
class CheckoutSession:
    """A Checkout Session as we need it: its id to record the attempt, its URL to go to."""

    id: str
    url: str | None
