"""Exceptions of the emulator: Stripe API errors, card errors and misuse of test controls."""

from __future__ import annotations

from typing import Any


class EmulatorError(Exception):
    """A test control was used wrongly (unknown id, wrong state); the message says why."""


class StripeError(Exception):
    """An error the emulated API answers with, in Stripe's JSON error format."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.decline_code = decline_code

    def body(self) -> dict[str, Any]:
        """Return the error as Stripe's `{"error": {...}}` body."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        return {"error": error}


def missing(param: str) -> StripeError:
    """Stripe's error for a required parameter that was not sent."""
    return StripeError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def invalid(param: str, message: str, code: str = "parameter_invalid_string") -> StripeError:
    """Stripe's error for a parameter with a bad value."""
    return StripeError(message, param=param, code=code)


def no_such(kind: str, obj_id: str, *, param: str | None = None) -> StripeError:
    """Stripe's error for an unknown object: 404 in the URL, 400 when named in a parameter."""
    return StripeError(
        f"No such {kind}: '{obj_id}'",
        status=404 if param is None else 400,
        param=param or "id",
        code="resource_missing",
    )


class CardError(Exception):
    """The card typed on the Checkout page cannot be charged (bad number, expiry, CVC)."""

    def __init__(
        self, message: str, *, code: str, param: str | None = None, decline_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code


class CardDeclined(CardError):
    """The issuer declined the card; `message` is Stripe's, e.g. "Your card was declined."."""
