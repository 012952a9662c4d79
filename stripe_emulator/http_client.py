"""The seam into the real `stripe` SDK: an HTTPClient that answers from the emulator."""

from __future__ import annotations

import io
import json
import logging
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import stripe

from .errors import StripeError
from .events import CURRENT_REQUEST
from .forms import parse_form
from .objects import new_id, now
from .routes import ROUTER

if TYPE_CHECKING:
    from .core import Emulator

log = logging.getLogger(__name__)
Response = tuple[str, int, dict[str, str]]
# The API version the installed SDK pins: the Emulator's default when none is configured.
SDK_API_VERSION: str = stripe.api_version


class Headers(dict[str, str]):
    """Response headers looked up without regard to case, as every HTTP client does.

    The SDK reads `request-id` in lower case (an HTTP library's headers are case-insensitive);
    a plain dict of Stripe's `Request-Id` would hide it from every error and response.
    """

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """The value of a header, whatever the case of `key`."""
        wanted = key.lower()
        return next((v for k, v in self.items() if k.lower() == wanted), default)

    def __getitem__(self, key: str) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


class EmulatorHTTPClient(stripe.HTTPClient):
    """Pass to `stripe.StripeClient(..., http_client=...)` to talk to the emulator."""

    name = "stripe-emulator"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__()
        self.emulator = emulator

    def request(
        self,
        method: str,
        url: str,
        headers: Any,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> Response:
        """Answer one API request as Stripe would: (body, status, headers)."""
        body, status, rheaders = handle(self.emulator, method, url, dict(headers or {}), post_data)
        return body, status, Headers(rheaders)

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Any,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, dict[str, str]]:
        """Answer a streaming request from the same in-memory response."""
        body, status, rheaders = self.request(method, url, headers, post_data)
        return io.BytesIO(body.encode()), status, rheaders

    def close(self) -> None:
        """Nothing to close: no sockets are opened."""


def handle(
    emu: Emulator, method: str, url: str, headers: dict[str, str], post_data: Any
) -> Response:
    """Authenticate, parse, replay or run a request, and encode the answer."""
    method = method.upper()
    request_id = new_id("req_", 14)
    lower = {k.lower(): v for k, v in headers.items()}
    rheaders = {
        "Content-Type": "application/json",
        "Request-Id": request_id,
        "Stripe-Version": lower.get("stripe-version") or emu.api_version,
        # Answers are final: the SDK must not retry them as if Stripe were flaky.
        "stripe-should-retry": "false",
    }
    api_key = lower.get("authorization", "").removeprefix("Bearer ").strip()
    parts = urlsplit(url)
    refused = _refusal(emu, api_key, method, parts.path)
    if refused is not None:
        return _encode(refused.body(), refused.status, rheaders)
    if isinstance(post_data, bytes):
        post_data = post_data.decode()
    params = parse_form(post_data or "") if method == "POST" else parse_form(parts.query)
    key = lower.get("idempotency-key") if method == "POST" else None
    if key:
        rheaders["Idempotency-Key"] = key
    token = CURRENT_REQUEST.set((request_id, key))
    try:
        with emu.transaction() as tx:
            # Every Stripe answer has an HTTP Date (RFC 9110): here the emulator's clock.
            rheaders["Date"] = formatdate(now(), usegmt=True)
            # Inside the write lock, so two processes sending the same key cannot both run it.
            if key:
                cached = tx.idempotent(api_key, key)
                if cached is not None:
                    return _replay(cached, method, parts.path, params, rheaders)
            result = ROUTER.dispatch(emu, tx, method, parts.path, params)
            body = json.dumps(result, indent=2)
            if key:
                fingerprint = json.dumps(params, sort_keys=True)
                tx.remember(api_key, key, method, parts.path, fingerprint, 200, body)
        return body, 200, rheaders
    except StripeError as error:
        return _encode(error.body(), error.status, rheaders)
    except Exception:
        log.exception("stripe emulator failed on %s %s", method, url)
        error = StripeError(
            "An unexpected error occurred in the Stripe emulator.", status=500, type="api_error"
        )
        return _encode(error.body(), error.status, rheaders)
    finally:
        CURRENT_REQUEST.reset(token)


# A live-mode emulator stands for a fresh live account being set up: these it answers; it
# creates no payments (an offline emulator must never look like it took live money).
LIVE_SETUP_PATHS = ("/v1/webhook_endpoints", "/v1/billing_portal/configurations")


def _refusal(emu: Emulator, api_key: str, method: str, path: str) -> StripeError | None:
    """Why this key may not make this request here, as Stripe words it; None if it may."""
    prefixes = ("sk_live_", "rk_live_") if emu.livemode else ("sk_test_", "rk_test_")
    if not api_key.startswith(prefixes):
        mode = "live keys (sk_live_...)" if emu.livemode else "test keys (sk_test_...)"
        return StripeError(
            f"Invalid API Key provided: this Stripe emulator only accepts {mode}.",
            status=401,
            type="invalid_request_error",
        )
    if emu.livemode and method != "GET" and not path.startswith(LIVE_SETUP_PATHS):
        return StripeError(
            "The Stripe emulator emulates a live account's set-up only (webhook endpoints, "
            "Billing Portal configurations); it takes no payments in live mode.",
            status=400,
            type="invalid_request_error",
        )
    return None


def _replay(
    cached: tuple[str, str, str, int, str],
    method: str,
    path: str,
    params: dict[str, Any],
    rheaders: dict[str, str],
) -> Response:
    old_method, old_path, old_params, status, body = cached
    if (old_method, old_path) != (method, path):
        raise StripeError(
            "Keys for idempotent requests can only be used for the same endpoint they were first "
            f"used for ('{old_method} {old_path}' vs '{method} {path}'). Try using a key other "
            "than the one you used if you meant to execute a different request.",
            type="idempotency_error",
        )
    if old_params != json.dumps(params, sort_keys=True):
        raise StripeError(
            "Keys for idempotent requests can only be used with the same parameters they were "
            "first used with. Try using a key other than "
            f"'{rheaders.get('Idempotency-Key')}' if you meant to execute a different request.",
            type="idempotency_error",
        )
    return body, status, {**rheaders, "Idempotent-Replayed": "true"}


def _encode(body: dict[str, Any], status: int, rheaders: dict[str, str]) -> Response:
    return json.dumps(body, indent=2), status, rheaders
