"""The Stripe gateway: the ONLY module that imports `stripe`. Everything else speaks our types.

One StripeClient is built from settings per app. In emulator mode its transport is the
emulator's HTTP client, so every call still goes through the real SDK: the only difference
from Stripe test mode is where the bytes go.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import stripe
from flask import Flask, current_app

from donations.facts.facts import EventFact, parse_event_object
from donations.facts.metadata import CustomerMetadata, key_namespace
from donations.payments.account_types import (
    PortalConfiguration,
    WebhookEndpoint,
    portal_configuration,
)
from donations.payments.provider_errors import operator_error, portal_error, reader_error
from donations.payments.types import (
    CheckoutRequest,
    CheckoutSession,
    InvalidWebhook,
    PaymentError,
    ProviderError,
    StripeProblem,
    WebhookSecretMissing,
)

log = logging.getLogger(__name__)

EMULATOR_API_KEY = "sk_test_emulator"
NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300


def _session(obj: stripe.checkout.Session) -> CheckoutSession:
    return CheckoutSession(id=obj.id, url=obj.url)


def _problem(exc: stripe.StripeError) -> StripeProblem:
    """What Stripe said, in our type (its class by name: provider_errors words it)."""
    error = exc.error
    problem = StripeProblem(
        kind=type(exc).__name__,
        message=exc.user_message or (error.message if error else None) or str(exc),
        code=exc.code or (error.code if error else None),
        param=getattr(exc, "param", None) or (error.param if error else None),
        http_status=exc.http_status,
        request_id=exc.request_id,
    )
    log.warning("stripe refused: %s", problem.describe())
    return problem


def _translate(exc: stripe.StripeError) -> PaymentError:
    """Turn a Stripe error into one of ours, with words a reader at checkout can act on."""
    return reader_error(_problem(exc))


def _account(exc: stripe.StripeError, doing: str) -> ProviderError:
    """Turn a Stripe error into an operator's: what Stripe said and what to do."""
    return operator_error(doing, _problem(exc))


class Gateway:
    """Our operations on Stripe (or the emulator), each in the words of this product."""

    def __init__(
        self,
        client: stripe.StripeClient,
        webhook_secret: str | Iterable[str],
        key_namespace: str = "",
        emulator: Any | None = None,
    ) -> None:
        self.client = client
        # Every secret a delivery may be signed with (several while one is rotated out).
        given = webhook_secret.split(",") if isinstance(webhook_secret, str) else webhook_secret
        self.webhook_secrets = tuple(s.strip() for s in given if s and s.strip())
        self.key_namespace = key_namespace
        # The offline emulator when it stands in for Stripe (its test controls prove a
        # delivery in `stripe check`); None on a real account.
        self.emulator = emulator
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
        params = request.stripe_params(self.installation)
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
            raise portal_error(_problem(exc)) from exc
        except ProviderError as exc:  # listing the configurations failed
            raise portal_error(exc.problem) from exc
        return portal.url

    def _portal_configuration(self) -> dict[str, str]:
        """`{"configuration": id}` of the chosen configuration; {} if none (Stripe refuses)."""
        if self._portal_configuration_id is None:
            chosen = portal_configuration(self.portal_configurations())
            self._portal_configuration_id = chosen.id if chosen else None
        if self._portal_configuration_id is None:
            return {}
        return {"configuration": self._portal_configuration_id}

    def _pages(self, service: Any, params: dict[str, Any], what: str = "Listing") -> Iterator[Any]:
        params = {"limit": 100, **params}
        try:
            page = service.list(params=params)
            while True:
                yield from page.data
                if not page.has_more or not page.data:
                    return
                page = service.list(params={**params, "starting_after": page.data[-1].id})
        except stripe.StripeError as exc:
            raise _account(exc, what) from exc

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
        for obj in self._pages(services[kind], params, f"Listing {kind}"):
            yield parse_event_object(obj.to_dict())

    def verify_event(self, payload: bytes, signature: str | None) -> EventFact:
        """Check a webhook's signature and timestamp, then parse it into our facts."""
        if not self.webhook_secrets:
            raise WebhookSecretMissing(
                "STRIPE_WEBHOOK_SECRET is not set, so no delivery can be verified: set it to "
                "the endpoint's signing secret (`flask --app wsgi stripe setup --webhook-url "
                "URL` shows it when it creates the endpoint; on this machine `flask --app wsgi "
                "stripe setup --local`) and restart"
            )
        if not signature:
            raise InvalidWebhook("missing Stripe-Signature header")
        try:
            text = payload.decode("utf-8")
            _verify_signature(text, signature, self.webhook_secrets)
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

    def _call(self, doing: str, request: Any) -> Any:
        """Run one account request; a refusal becomes a ProviderError saying `doing`."""
        try:
            return request()
        except stripe.StripeError as exc:
            raise _account(exc, doing) from exc

    def stripe_time(self) -> datetime | None:
        """Stripe's clock, from the HTTP Date of a cheap answer (None when it sends none).

        `stripe sync` stamps what the API says now with it: the emulator's clock may run ahead
        of ours (its dunning moves it days on), and a fact stamped earlier than the events it
        replaces would count as older.
        """
        answer = self._call("Reading Stripe's clock", self.client.v1.balance.retrieve)
        response = answer.last_response
        date = response.headers.get("Date") if response is not None else None
        try:
            return parsedate_to_datetime(date).astimezone(UTC) if date else None
        except (TypeError, ValueError):
            return None

    def account_livemode(self) -> bool:
        """Whether the key reaches live mode (read from the balance, which every key may see)."""
        return bool(self._call("Reading the key's mode", self.client.v1.balance.retrieve).livemode)

    def webhook_endpoints(self) -> list[WebhookEndpoint]:
        """Every webhook endpoint of the account."""
        pages = self._pages(self.client.v1.webhook_endpoints, {}, "Listing webhook endpoints")
        return [WebhookEndpoint.from_sdk(e) for e in pages]

    def create_webhook_endpoint(
        self, url: str, events: Iterable[str], api_version: str
    ) -> WebhookEndpoint:
        """Create an endpoint in our API version; Stripe shows its secret only now."""
        params = {"url": url, "enabled_events": sorted(events), "api_version": api_version}
        create = self.client.v1.webhook_endpoints.create
        made = self._call(f"Creating the webhook endpoint for {url}", lambda: create(params=params))
        return WebhookEndpoint.from_sdk(made)

    def update_webhook_endpoint(self, endpoint_id: str, events: Iterable[str]) -> WebhookEndpoint:
        """Set an endpoint's events (Stripe cannot change its API version) and enable it."""
        params = {"enabled_events": sorted(events), "disabled": False}
        update = self.client.v1.webhook_endpoints.update
        done = self._call(
            f"Updating webhook endpoint {endpoint_id}", lambda: update(endpoint_id, params=params)
        )
        return WebhookEndpoint.from_sdk(done)

    def portal_configurations(self) -> list[PortalConfiguration]:
        """Every active Billing Portal configuration of the account."""
        service = self.client.v1.billing_portal.configurations
        pages = self._pages(service, {"active": True}, "Listing Billing Portal configurations")
        return [PortalConfiguration.from_sdk(c) for c in pages]

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
        create = self.client.v1.billing_portal.configurations.create
        made = self._call(
            "Creating the Billing Portal configuration", lambda: create(params=params)
        )
        return made.id


def _verify_signature(text: str, header: str, secrets_: tuple[str, ...]) -> None:
    """The SDK's check against each secret; then refuse a timestamp from the future too.

    The SDK's own check (without construct_event's tree of StripeObjects: in a webhook
    storm that conversion cost more than storing the event) refuses only stale timestamps;
    a signature dated beyond the tolerance ahead is as suspect as one beyond it behind.
    """
    refused: stripe.SignatureVerificationError | None = None
    for secret in secrets_:
        try:
            stripe.WebhookSignature.verify_header(
                text, header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            refused = exc
            continue
        stamp = _signed_at(header)
        if stamp > time.time() + WEBHOOK_TOLERANCE_SECONDS:
            raise stripe.SignatureVerificationError(
                f"Timestamp in the future, outside the tolerance zone ({stamp})", header, text
            )
        return
    assert refused is not None
    raise refused


def _signed_at(header: str) -> int:
    """The `t=` of a Stripe-Signature header the SDK has already parsed and accepted."""
    return int(next(p.split("=", 1)[1] for p in header.split(",") if p.startswith("t=")))


def build_client(app: Flask, http_client: Any | None = None) -> stripe.StripeClient:
    """Build the app's one StripeClient from its settings."""
    key = app.config["STRIPE_SECRET_KEY"]
    if http_client is None:
        http_client = _emulator_transport(app)
    return stripe.StripeClient(
        key or EMULATOR_API_KEY,
        stripe_version=app.config["STRIPE_API_VERSION"],
        max_network_retries=NETWORK_RETRIES,
        http_client=http_client,
    )


def _emulator_transport(app: Flask) -> Any | None:
    """The emulator's transport: in emulator mode, or a test's (STRIPE_HTTP_CLIENT)."""
    if app.config["STRIPE_EMULATOR"]:
        return app.extensions["stripe_emulator"].http_client
    # A test seam, never read from the environment: a keyed app (production settings) whose
    # requests go to an emulated account, as `stripe setup` meets a fresh real one.
    return app.config.get("STRIPE_HTTP_CLIENT")


def init_app(app: Flask) -> None:
    """Attach the gateway to the app (after the emulator, when it is in use)."""
    app.config["INSTALLATION_TAG"] = key_namespace(app.config)
    transport = _emulator_transport(app)
    app.extensions["payments_gateway"] = Gateway(
        build_client(app, transport),
        app.config["STRIPE_WEBHOOK_SECRETS"],
        app.config["INSTALLATION_TAG"],
        emulator=getattr(transport, "emulator", None),
    )


def get_gateway() -> Gateway:
    """Return the current app's gateway."""
    return current_app.extensions["payments_gateway"]
