"""The Emulator facade: state, the SDK seam, webhook delivery and the test controls."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from . import clock, disputes, dunning, expiry, lifecycle, paying, refunds
from .dunning import EndState
from .errors import EmulatorError, StripeError
from .events import DROP_SETTING, Deliverer, Transport, emit
from .http_client import SDK_API_VERSION, EmulatorHTTPClient
from .store import Store, Tx


class Emulator:
    """An offline Stripe: answers the SDK, serves hosted pages, emits signed webhooks."""

    def __init__(
        self,
        state_path: str | os.PathLike[str],
        *,
        site_url: str,
        webhook_url: str,
        webhook_secret: str | None,
        api_version: str | None = None,
        transport: Transport | None = None,
        retry_base_seconds: float = 0.5,
        retry_cap_seconds: float = 60.0,
        max_attempts: int = 8,
        background: bool = True,
        delivery_timeout: float = 10.0,
    ) -> None:
        self.store = Store(state_path)
        self.site_url = site_url.rstrip("/")
        self.webhook_url = webhook_url
        # No version given (e.g. no host app config): answer in the layout of the API version
        # the installed `stripe` SDK pins, which is what an unpinned client would ask for.
        self.api_version = api_version or SDK_API_VERSION
        self.background = background
        if not webhook_secret:
            # No secret configured: keep one in the state file so every process agrees on it.
            with self.store.transaction() as tx:
                webhook_secret = tx.setting("webhook_secret") or "whsec_" + secrets.token_hex(24)
                tx.set_setting("webhook_secret", webhook_secret)
        self.webhook_secret: str = webhook_secret
        self.deliverer = Deliverer(
            self.store,
            url=webhook_url,
            secret=webhook_secret,
            transport=transport,
            retry_base_seconds=retry_base_seconds,
            retry_cap_seconds=retry_cap_seconds,
            max_attempts=max_attempts,
            timeout=delivery_timeout,
        )
        self.http_client = EmulatorHTTPClient(self)

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
        )

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
        """Return outbox rows: status, attempts, last_status, last_error per delivery."""
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
            ahead = int(tx.setting(clock.OFFSET_SETTING, "0")) + int(seconds)
            tx.set_setting(clock.OFFSET_SETTING, str(ahead))
            with clock.ahead_by(ahead):
                return {
                    "expired": expiry.expire_due(self, tx),
                    "settled": refunds.settle_due(self, tx),
                }

    def resend(self, event_id: str) -> dict[str, Any]:
        """Queue an already emitted event for delivery once more (even if it was dropped)."""
        with self.transaction() as tx:
            event = tx.get(event_id, "event")
            if event is None:
                raise EmulatorError(f"No such event: {event_id}")
            tx.enqueue(event_id)
        return event

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

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Deliver (or wait for) everything queued; return True if nothing is left pending."""
        self.deliverer.deliver_pending(timeout)
        return self.store.next_due() is None

    def close(self) -> None:
        """Stop the delivery thread and close the database connections."""
        self.deliverer.stop()
        self.store.close()
