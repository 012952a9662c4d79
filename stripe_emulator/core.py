"""The Emulator facade: state, the SDK seam, webhook delivery and the test controls."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from . import (
    clock,
    dashboard,
    disputes,
    dunning,
    expiry,
    lifecycle,
    paying,
    portal,
    refunds,
    test_webhooks,
    webhook_endpoints,
)
from . import objects as o
from .delivery import MODES, Deliverer, Delivery, Transport
from .dunning import EndState
from .errors import EmulatorError, StripeError
from .events import DROP_SETTING, emit, payload_for
from .http_client import SDK_API_VERSION, EmulatorHTTPClient
from .money import MINIMUMS
from .store import Store, Tx


class Emulator:
    """An offline Stripe: answers the SDK, serves hosted pages, emits signed webhooks."""

    def __init__(
        self,
        state_path: str | os.PathLike[str],
        *,
        site_url: str,
        signing_secret: str | None = None,
        api_version: str | None = None,
        transport: Transport | None = None,
        delivery: str = "ordered",
        seed: int | None = None,
        retry_base_seconds: float = 0.5,
        retry_cap_seconds: float = 60.0,
        max_attempts: int = 8,
        background: bool = True,
        delivery_timeout: float = 10.0,
        settlement_currency: str = "usd",
        livemode: bool = False,
        host_origin: str | None = None,
    ) -> None:
        if delivery not in MODES:  # before the state file is opened
            raise ValueError(f"delivery mode must be one of {', '.join(MODES)}, got {delivery!r}")
        if settlement_currency.lower() not in MINIMUMS:
            raise ValueError(
                f"settlement currency must be one of {', '.join(sorted(MINIMUMS))}, "
                f"got {settlement_currency!r}"
            )
        # The currency the account pays out in: Stripe's minimum charge follows it.
        self.settlement_currency = settlement_currency.lower()
        # A live-mode account: it takes live keys only, and only its set-up (see http_client).
        self.livemode = livemode
        # The host app's own origin (pure emulator mode): its endpoint may be on localhost.
        self.host_origin = host_origin
        self.store = Store(state_path)
        self.site_url = site_url.rstrip("/")
        # The account's default API version: payloads of endpoints created without one.
        # No version given (e.g. no host app config): the one the installed `stripe` SDK
        # pins, which is what an unpinned client would ask for.
        self.api_version = api_version or SDK_API_VERSION
        # Fixed: every webhook endpoint signs with it (the analogue of `stripe listen`).
        # None: each endpoint gets its own secret, shown once when it is created.
        self.signing_secret = signing_secret or None
        self.background = background
        self.deliverer = Deliverer(
            self.store,
            self._prepare,
            transport=transport,
            mode=delivery,
            seed=seed,
            retry_base_seconds=retry_base_seconds,
            retry_cap_seconds=retry_cap_seconds,
            max_attempts=max_attempts,
            timeout=delivery_timeout,
        )
        self.http_client = EmulatorHTTPClient(self)
        if self.store.next_due() is not None:
            # Deliveries left pending by an earlier run (or another process) resume now.
            self._kick()

    # --- plumbing used by the API and the controls -------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction; when the outermost one commits, wake webhook delivery."""
        outermost = not self.store.in_transaction()
        if not outermost:
            with self.store.transaction() as tx:
                yield tx
            return
        # Timestamps inside follow the emulator's clock, which a test control may advance.
        with (
            self.store.transaction() as tx,
            clock.ahead_by(int(tx.setting(clock.OFFSET_SETTING, "0"))),
        ):
            yield tx
        self._kick()

    def emit(
        self,
        tx: Tx,
        event_type: str,
        obj: dict[str, Any],
        previous_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record an event about `obj` and queue it for delivery."""
        return emit(
            tx,
            event_type,
            obj,
            api_version=self.api_version,
            previous_attributes=previous_attributes,
            livemode=self.livemode,
        )

    def _prepare(self, row: dict[str, Any]) -> Delivery | str:
        """Render one outbox row for its endpoint, or say why it cannot go out."""
        with self.store.transaction(write=False) as tx:
            event = tx.get(row["event_id"], "event")
            endpoint = tx.get(row["endpoint_id"] or "", "webhook_endpoint")
            if event is None:
                return "event missing"
            if endpoint is None:
                return "endpoint deleted"
            if endpoint["status"] != "enabled":
                return "endpoint disabled"
            version = endpoint["api_version"] or self.api_version
            body = payload_for(event, version, tx.get)
        return Delivery(endpoint["url"], body, webhook_endpoints.signing_secret(self, endpoint))

    def _kick(self) -> None:
        if self.background:
            self.deliverer.start()
            self.deliverer.wake()

    # --- reading state -----------------------------------------------------------------

    def get(self, obj_id: str) -> dict[str, Any] | None:
        """Return a stored object by id (with the emulator's private keys), or None."""
        with self.store.transaction(write=False) as tx:
            return tx.get(obj_id)

    def list_objects(self, obj_type: str) -> list[dict[str, Any]]:
        """Return all stored objects of a type (e.g. "subscription"), newest first."""
        with self.store.transaction(write=False) as tx:
            return tx.list(obj_type)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Return recorded events in the order they were emitted (oldest first)."""
        found = list(reversed(self.list_objects("event")))
        return [e for e in found if event_type is None or e["type"] == event_type]

    def deliveries(self, event_id: str | None = None) -> list[dict[str, Any]]:
        """Return outbox rows, one per (event, endpoint): status, attempts, last error."""
        return self.store.outbox(event_id)

    # --- test controls -----------------------------------------------------------------

    def pay_checkout(
        self,
        session_id: str,
        card_number: str,
        email: str | None = None,
        name: str | None = None,
        *,
        exp_month: int | str | None = None,
        exp_year: int | str | None = None,
        cvc: str | None = None,
    ) -> str:
        """Pay a Checkout Session with a test card; return the success URL or raise CardError."""
        return paying.pay_checkout(
            self,
            session_id,
            card_number,
            email=email,
            name=name,
            exp_month=exp_month,
            exp_year=exp_year,
            cvc=cvc,
        )

    def renew(
        self,
        subscription_id: str,
        fail: bool = False,
        *,
        retries: int = 0,
        final_status: EndState = "unpaid",
    ) -> dict[str, Any]:
        """Renew now, or retry the open invoice of a past_due/unpaid subscription.

        A failed payment makes it past_due; `retries` more attempts fail with the same
        PaymentIntent, and once a retry has failed, `final_status` is the account's dunning
        setting: canceled, unpaid, paused, or past_due (left as it is).
        """
        return dunning.renew(
            self, subscription_id, fail=fail, retries=retries, final_status=final_status
        )

    def create_subscription(self, customer_id: str, **params: Any) -> dict[str, Any]:
        """Create and pay a subscription for a customer as the Dashboard does (no Checkout).

        Parameters: amount, currency, interval, card_number, and optionally interval_count,
        product_name and metadata (dashboard.create_subscription).
        """
        return dashboard.create_subscription(self, customer_id, **params)

    def advance_past_period_end(self, subscription_id: str) -> dict[str, Any]:
        """End the current period: a cancelling subscription is deleted, others renew."""
        return dunning.advance_past_period_end(self, subscription_id)

    def cancel(self, subscription_id: str, at_period_end: bool) -> dict[str, Any]:
        """Cancel a subscription now or at the end of its period."""
        return lifecycle.cancel(self, subscription_id, at_period_end=at_period_end)

    def resume(self, subscription_id: str) -> dict[str, Any]:
        """Undo cancel_at_period_end."""
        return lifecycle.resume(self, subscription_id)

    def refund(self, charge_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refund a charge fully (amount None) or partly, as `POST /v1/refunds` does."""
        try:
            with self.transaction() as tx:
                return refunds.create_refund(self, tx, charge_id, amount)
        except StripeError as exc:
            raise EmulatorError(exc.message) from exc

    def fail_refund(
        self, refund_id: str, reason: str = "expired_or_canceled_card"
    ) -> dict[str, Any]:
        """The bank returns a refund: it fails and the charge gets the money back."""
        with self.transaction() as tx:
            return refunds.fail(self, tx, refund_id, reason)

    def cancel_refund(self, refund_id: str) -> dict[str, Any]:
        """Cancel a refund (requires_action, or a card refund within 30 minutes)."""
        with self.transaction() as tx:
            return refunds.cancel(self, tx, refund_id)

    def dispute(
        self,
        charge_id: str,
        close_as: Literal["won", "lost"] | None = None,
        *,
        inquiry: bool = False,
        status: str | None = None,
    ) -> dict[str, Any]:
        """Open a dispute (or an inquiry) on a charge; move it to `status` or close it."""
        return disputes.dispute(self, charge_id, close_as, inquiry=inquiry, status=status)

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """Expire an open Checkout Session now (`checkout.session.expired`)."""
        return expiry.expire_now(self, session_id)

    def now(self) -> int:
        """The emulator's clock: real time plus however far it was advanced."""
        with self.store.transaction(write=False) as tx:
            return int(time.time()) + int(tx.setting(clock.OFFSET_SETTING, "0"))

    def advance_clock(self, seconds: int) -> dict[str, list[str]]:
        """Move the clock forward; what falls due happens (sessions expire, refunds settle)."""
        if seconds < 0:
            raise EmulatorError("The clock only moves forward.")
        with self.transaction() as tx:
            return self.pass_time(tx, seconds)

    def pass_time(self, tx: Tx, seconds: int) -> dict[str, list[str]]:
        """Inside a transaction: the clock moves on (for good), and what falls due happens.

        For what Stripe does days apart in one control (a renewal's retries): every event
        after this is stamped later, as Stripe's are.
        """
        at = o.now() + max(int(seconds), 0)
        ahead = at - int(time.time())
        tx.set_setting(clock.OFFSET_SETTING, str(ahead))
        clock.move_to(ahead, at)
        return {"expired": expiry.expire_due(self, tx), "settled": refunds.settle_due(self, tx)}

    def resend(self, event_id: str, endpoint_id: str | None = None) -> dict[str, Any]:
        """Queue an event again (even a dropped one): to one endpoint, or to its subscribers."""
        with self.transaction() as tx:
            event = tx.get(event_id, "event")
            if event is None:
                raise EmulatorError(f"No such event: {event_id}")
            if endpoint_id is None:
                targets = webhook_endpoints.subscribers(tx, event["type"])
            else:
                endpoint = tx.get(endpoint_id, "webhook_endpoint")
                if endpoint is None:
                    raise EmulatorError(f"No such webhook endpoint: {endpoint_id}")
                targets = [endpoint]
            if not targets:
                raise EmulatorError(f"No webhook endpoint subscribes to {event['type']}.")
            for endpoint in targets:
                tx.enqueue(event_id, endpoint["id"])
        return event

    def send_test_webhook(
        self, endpoint_id: str, event_type: str, obj: dict[str, Any]
    ) -> test_webhooks.TestDelivery:
        """Sign an event about `obj` for one endpoint and POST it now (not an account event)."""
        return test_webhooks.send(self, endpoint_id, event_type, obj)

    def create_default_portal_configuration(self) -> dict[str, Any]:
        """Save the account's default Billing Portal configuration, as the Dashboard would."""
        with self.transaction() as tx:
            return o.public(portal.default_configuration(self, tx))

    def set_drop_deliveries(self, drop: bool) -> None:
        """When on, events are recorded but never delivered (a lost-webhook simulation)."""
        with self.transaction() as tx:
            tx.set_setting(DROP_SETTING, "1" if drop else "0")

    @property
    def drop_deliveries(self) -> bool:
        """Whether deliveries are being dropped."""
        with self.store.transaction(write=False) as tx:
            return tx.setting(DROP_SETTING) == "1"

    def deliver_pending(self, timeout: float = 10.0) -> int:
        """Deliver queued events now, waiting out retries up to `timeout`; return count."""
        return self.deliverer.deliver_pending(timeout)

    def close(self) -> None:
        """Stop the delivery thread and close the database connections."""
        self.deliverer.stop()
        self.store.close()
