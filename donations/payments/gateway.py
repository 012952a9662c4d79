"""The Stripe gateway: the ONLY module that imports `stripe`. Everything else speaks our types.

One StripeClient is built from settings per app. In emulator mode its transport is the
emulator's HTTP client, so every call still goes through the real SDK: the only difference
from Stripe test mode is where the bytes go.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import stripe
from flask import Flask, current_app

from donations.payments.account_types import (
    PortalConfiguration,
    WebhookEndpoint,
    portal_configuration,
)
from donations.payments.facts import EventFact, parse_event_object
from donations.payments.metadata import CustomerMetadata
from donations.payments.types import (
    CardDeclined,
    CheckoutRequest,
    CheckoutSession,
    InvalidWebhook,
    PaymentError,
    PaymentUnavailable,
)

log = logging.getLogger(__name__)

# The one Stripe API version every request and our webhook endpoint are pinned to; settings
# read it from here, and the emulator answers in this layout.
STRIPE_API_VERSION = "2026-10-28.endive"
EMULATOR_API_KEY = "sk_test_emulator"
NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300


def _session(obj: stripe.checkout.Session) -> CheckoutSession:
    return CheckoutSession(id=obj.id, url=obj.url)


def _translate(exc: stripe.StripeError) -> PaymentError:
    """Turn a Stripe error into one of ours, with words a reader can act on."""
    log.warning("stripe error %s: %s (request %s)", type(exc).__name__, exc, exc.request_id)
    if isinstance(exc, stripe.CardError):
        return CardDeclined(exc.user_message or "Your card was declined.")
    if isinstance(exc, stripe.RateLimitError | stripe.APIConnectionError):
        return PaymentUnavailable(
            "We couldn't reach our payment provider just now. Please try again in a minute."
        )
    if isinstance(exc, stripe.IdempotencyError):
        return PaymentError("This payment was already started. Please reload the page and retry.")
    if isinstance(exc, stripe.InvalidRequestError):
        return PaymentError(
            "Our payment provider couldn't accept this payment. "
            "Please check the amount and currency and try again."
        )
    return PaymentUnavailable(
        "Payments are not available at the moment. Please try again later; nothing was charged."
    )


class Gateway:
    """Our operations on Stripe (or the emulator), each in the words of this product."""

    def __init__(
        self, client: stripe.StripeClient, webhook_secret: str, key_namespace: str = ""
    ) -> None:
        self.client = client
        self.webhook_secret = webhook_secret
        self.key_namespace = key_namespace
        # The portal configuration sessions name, looked up once (see create_portal).
        self._portal_configuration_id: str | None = None

    @property
    def installation(self) -> str | None:
        """The tag this installation writes on what it creates at Stripe (None: untagged)."""
        return self.key_namespace or None

    def _create_once(self, service: Any, params: dict[str, Any], key: str) -> Any:
        """Create with an idempotency key scoped to this installation; never stuck on it.

        Stripe keeps keys for 24 h per account, and environments (dev, staging, a reset
        database) often share one test account. The namespace keeps their keys apart; if a
        key still meets a request with other parameters, it was not ours, so one retry
        with a fresh key is safe, and a reader is never blocked for a day.
        """
        scoped = f"{self.key_namespace}-{key}" if self.key_namespace else key
        try:
            return service.create(params=params, options={"idempotency_key": scoped})
        except stripe.IdempotencyError:
            log.warning("idempotency key %s was used with other parameters; retrying", scoped)
            fresh = f"{scoped}-{secrets.token_hex(8)}"
            return service.create(params=params, options={"idempotency_key": fresh})

    def ensure_customer(
        self, *, customer_id: str | None, email: str, name: str, user_id: int, key: str
    ) -> str:
        """Return the supporter's Stripe customer id, creating the customer only once."""
        if customer_id:
            return customer_id
        params = {
            "email": email,
            "name": name or None,
            "metadata": CustomerMetadata(user_id=user_id, site=self.installation).to_stripe(),
        }
        try:
            # One key per person (`key`): if the checkout after this fails and our transaction
            # rolls back, the next try within Stripe's 24 h window gets the same customer.
            customer = self._create_once(self.client.v1.customers, params, key)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return customer.id

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """Create a Checkout Session for a one-time gift or a membership."""
        price: dict[str, Any] = {
            "currency": request.currency,
            "unit_amount": request.amount,
            "product_data": {"name": request.product_name},
        }
        params: dict[str, Any] = {
            "mode": request.mode,
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "metadata": request.metadata(self.installation),
        }
        if request.user_id is not None:
            params["client_reference_id"] = str(request.user_id)
        if request.customer_id:
            params["customer"] = request.customer_id
        elif request.email:
            params["customer_email"] = request.email
        if request.mode == "subscription":
            price["recurring"] = {"interval": request.interval}
            # Subscription events must link back to us without a call to the API.
            params["subscription_data"] = {"metadata": request.metadata(self.installation)}
        else:
            params["submit_type"] = "donate"
            params["payment_intent_data"] = {"metadata": request.metadata(self.installation)}
            if not request.customer_id:
                # A guest's gift needs no customer: "always" made a new one per gift (Stripe
                # never matches them by email), so it recognised nobody and only filled the
                # supporter list. The gift is kept by its payment intent either way.
                params["customer_creation"] = "if_required"
        try:
            session = self._create_once(
                self.client.v1.checkout.sessions, params, request.idempotency_key
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _session(session)

    def create_portal(self, customer_id: str, return_url: str) -> str:
        """Create a Billing Portal session, in the configuration `stripe setup` chose."""
        params = {"customer": customer_id, "return_url": return_url}
        try:
            chosen = self._portal_configuration()
            try:
                portal = self.client.v1.billing_portal.sessions.create(params={**params, **chosen})
            except stripe.InvalidRequestError as exc:
                if not chosen or exc.param != "configuration":
                    raise
                # The cached configuration was deactivated or deleted: choose again, once.
                self._portal_configuration_id = None
                chosen = self._portal_configuration()
                portal = self.client.v1.billing_portal.sessions.create(params={**params, **chosen})
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return portal.url

    def _portal_configuration(self) -> dict[str, str]:
        """`{"configuration": id}` of the chosen configuration; {} if none (Stripe refuses)."""
        if self._portal_configuration_id is None:
            chosen = portal_configuration(self.portal_configurations())
            self._portal_configuration_id = chosen.id if chosen else None
        if self._portal_configuration_id is None:
            return {}
        return {"configuration": self._portal_configuration_id}

    def _pages(self, service: Any, params: dict[str, Any]) -> Iterator[Any]:
        params = {"limit": 100, **params}
        try:
            page = service.list(params=params)
            while True:
                yield from page.data
                if not page.has_more or not page.data:
                    return
                page = service.list(params={**params, "starting_after": page.data[-1].id})
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def iter_objects(self, kind: str, **params: Any) -> Iterator[Any]:
        """Yield every object of a kind, page by page, parsed into our facts.

        Kinds: customers, subscriptions, invoices, charges, refunds, disputes,
        checkout_sessions, balance_transactions.
        """
        services = {
            "customers": self.client.v1.customers,
            "subscriptions": self.client.v1.subscriptions,
            "invoices": self.client.v1.invoices,
            "charges": self.client.v1.charges,
            "refunds": self.client.v1.refunds,
            "disputes": self.client.v1.disputes,
            "checkout_sessions": self.client.v1.checkout.sessions,
            "balance_transactions": self.client.v1.balance_transactions,
        }
        for obj in self._pages(services[kind], params):
            yield parse_event_object(obj.to_dict())

    def verify_event(self, payload: bytes, signature: str | None) -> EventFact:
        """Check a webhook's signature and timestamp, then parse it into our facts."""
        if not signature:
            raise InvalidWebhook("missing Stripe-Signature header")
        try:
            text = payload.decode("utf-8")
            # The SDK's own check, without construct_event's tree of StripeObjects: in a
            # webhook storm that conversion cost more than storing the event.
            stripe.WebhookSignature.verify_header(
                text, signature, self.webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
            data = json.loads(text)
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(f"bad signature: {exc.user_message or exc}") from None
        except ValueError as exc:  # not UTF-8, or not JSON
            raise InvalidWebhook(f"malformed JSON: {exc}") from None
        except RecursionError:  # thousands of nested brackets: no event looks like that
            raise InvalidWebhook("malformed JSON: nested too deeply") from None
        try:
            return EventFact.from_payload(data, raw=text)
        except ValueError as exc:
            raise InvalidWebhook(str(exc)) from None

    # --- account set-up (`flask stripe setup` / `check`) ------------------------------------

    def stripe_time(self) -> datetime | None:
        """Stripe's clock, from the HTTP Date of a cheap answer (None when it sends none).

        `stripe sync` stamps what the API says now with it: the emulator's clock may run ahead
        of ours (its dunning moves it days on), and a fact stamped earlier than the events it
        replaces would count as older.
        """
        try:
            answer = self.client.v1.balance.retrieve()
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        response = answer.last_response
        date = response.headers.get("Date") if response is not None else None
        try:
            return parsedate_to_datetime(date).astimezone(UTC) if date else None
        except (TypeError, ValueError):
            return None

    def account_livemode(self) -> bool:
        """Whether the key reaches live mode (read from the balance, which every key may see)."""
        try:
            return bool(self.client.v1.balance.retrieve().livemode)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def webhook_endpoints(self) -> list[WebhookEndpoint]:
        """Every webhook endpoint of the account."""
        return [
            WebhookEndpoint.from_sdk(e) for e in self._pages(self.client.v1.webhook_endpoints, {})
        ]

    def create_webhook_endpoint(
        self, url: str, events: Iterable[str], api_version: str
    ) -> WebhookEndpoint:
        """Create an endpoint in our API version; Stripe shows its secret only now."""
        params = {"url": url, "enabled_events": sorted(events), "api_version": api_version}
        try:
            return WebhookEndpoint.from_sdk(self.client.v1.webhook_endpoints.create(params=params))
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def update_webhook_endpoint(self, endpoint_id: str, events: Iterable[str]) -> WebhookEndpoint:
        """Set an endpoint's events (Stripe cannot change its API version) and enable it."""
        params = {"enabled_events": sorted(events), "disabled": False}
        try:
            return WebhookEndpoint.from_sdk(
                self.client.v1.webhook_endpoints.update(endpoint_id, params=params)
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def portal_configurations(self) -> list[PortalConfiguration]:
        """Every active Billing Portal configuration of the account."""
        service = self.client.v1.billing_portal.configurations
        return [PortalConfiguration.from_sdk(c) for c in self._pages(service, {"active": True})]

    def create_portal_configuration(self, *, return_url: str, marker: dict[str, str]) -> str:
        """Create the portal configuration members use: cancel at period end, card, invoices."""
        params: dict[str, Any] = {
            "default_return_url": return_url,
            "features": {
                "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                "payment_method_update": {"enabled": True},
                "invoice_history": {"enabled": True},
                "customer_update": {"enabled": True, "allowed_updates": ["email", "address"]},
            },
            "metadata": marker,
        }
        try:
            return self.client.v1.billing_portal.configurations.create(params=params).id
        except stripe.StripeError as exc:
            raise _translate(exc) from exc


def build_client(app: Flask, http_client: Any | None = None) -> stripe.StripeClient:
    """Build the app's one StripeClient from its settings."""
    key = app.config["STRIPE_SECRET_KEY"]
    if app.config["STRIPE_EMULATOR"] and http_client is None:
        http_client = app.extensions["stripe_emulator"].http_client
    return stripe.StripeClient(
        key or EMULATOR_API_KEY,
        stripe_version=app.config["STRIPE_API_VERSION"],
        max_network_retries=NETWORK_RETRIES,
        http_client=http_client,
    )


def init_app(app: Flask) -> None:
    """Attach the gateway to the app (after the emulator, when it is in use)."""
    app.config["INSTALLATION_TAG"] = key_namespace(app.config)
    app.extensions["payments_gateway"] = Gateway(
        build_client(app), app.config["STRIPE_WEBHOOK_SECRET"], app.config["INSTALLATION_TAG"]
    )


def key_namespace(config: Any) -> str:
    """A short tag for this installation (site and secret differ per env).

    It scopes our idempotency keys, and it is the installation tag we write in the metadata
    of what we create at Stripe (metadata.SITE), so that environments sharing one account
    tell their objects apart (design notes §8). Also in `app.config["INSTALLATION_TAG"]`.
    """
    seed = f"{config['SITE_URL']}|{config['SECRET_KEY']}".encode()
    return "d" + hashlib.sha256(seed).hexdigest()[:12]


def get_gateway() -> Gateway:
    """Return the current app's gateway."""
    return current_app.extensions["payments_gateway"]
