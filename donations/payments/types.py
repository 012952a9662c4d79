"""Our words for payments, as the gateway speaks them to the rest of the app (no `stripe` here).

The gateway (the one module that imports `stripe`) takes and returns these types, and turns
Stripe's errors into the ones below, so callers never handle a Stripe class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from donations.facts.metadata import ONCE, CheckoutMetadata


@dataclass(frozen=True)
class StripeProblem:
    """What Stripe said when it refused a request, in its own fields (no `stripe` class)."""

    kind: str  # the SDK's error class name: InvalidRequestError, AuthenticationError, ...
    message: str
    code: str | None = None
    param: str | None = None
    http_status: int | None = None
    request_id: str | None = None

    def describe(self) -> str:
        """ "Stripe said: <message> (code …, param …, request …)" on one line."""
        details = [
            f"{name} {value}"
            for name, value in (
                ("code", self.code),
                ("param", self.param),
                ("HTTP", self.http_status),
                ("request", self.request_id),
            )
            if value
        ]
        return f"Stripe said: {self.message}" + (f" ({', '.join(details)})" if details else "")


class PaymentError(Exception):
    """A payment problem with a message a reader can be shown as it is."""

    def __init__(self, message: str, problem: StripeProblem | None = None) -> None:
        super().__init__(message)
        # What Stripe said, for logs and operators; never shown to readers.
        self.problem = problem


class PaymentUnavailable(PaymentError):
    """Stripe could not be reached or refused us; nothing the reader did wrong."""


class CardDeclined(PaymentError):
    """The card was declined or is invalid."""


class PortalUnavailable(PaymentError):
    """The Billing Portal could not be opened; the message says nothing about payments."""


class ProviderError(RuntimeError):
    """Stripe refused an account operation (set-up, check, sync): what it said, what to do."""

    def __init__(self, doing: str, problem: StripeProblem, advice: str) -> None:
        super().__init__(f"{doing} failed. {problem.describe()}. {advice}")
        self.doing = doing
        self.problem = problem
        self.advice = advice


class InvalidWebhook(ValueError):
    """A webhook whose signature, timestamp or JSON is not acceptable."""


class WebhookSecretMissing(RuntimeError):
    """No STRIPE_WEBHOOK_SECRET is set, so no delivery can be verified (Stripe retries)."""


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

    def stripe_params(self, site: str | None) -> dict[str, Any]:
        """The parameters of `POST /v1/checkout/sessions` for this request (`site`: our tag)."""
        price: dict[str, Any] = {
            "currency": self.currency,
            "unit_amount": self.amount,
            "product_data": {"name": self.product_name},
        }
        params: dict[str, Any] = {
            "mode": self.mode,
            # Stripe's hosted page, by its name since 2026-03-25.dahlia (`hosted` is refused
            # there: docs.stripe.com/changelog/dahlia/2026-03-25/
            # updates-available-checkout-session-ui-modes); the SDK's SessionCreateParams.
            "ui_mode": "hosted_page",
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": self.success_url,
            "cancel_url": self.cancel_url,
            "metadata": self.metadata(site),
        }
        if self.user_id is not None:
            params["client_reference_id"] = str(self.user_id)
        if self.customer_id:
            params["customer"] = self.customer_id
        elif self.email:
            params["customer_email"] = self.email
        if self.mode == "subscription":
            price["recurring"] = {"interval": self.interval}
            # Subscription events must link back to us without a call to the API.
            params["subscription_data"] = {"metadata": self.metadata(site)}
        else:
            params["submit_type"] = "donate"
            params["payment_intent_data"] = {"metadata": self.metadata(site)}
            if not self.customer_id:
                # A guest's gift needs no customer: "always" made a new one per gift (Stripe
                # never matches them by email), so it recognised nobody and only filled the
                # supporter list. The gift is kept by its payment intent either way.
                params["customer_creation"] = "if_required"
        return params

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
