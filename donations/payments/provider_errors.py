"""What a refused Stripe request means, for whom: a reader at checkout, a member at the portal,
or the operator running `stripe setup` / `check` / `sync`.

The gateway reads Stripe's fields into a StripeProblem (it alone knows the SDK's classes, by
name here); this module words them. A reader's checkout message talks about the payment; a
member's portal message says nothing about payments; an operator gets what Stripe said
(message, code, param) and what to do about it.
"""

from __future__ import annotations

from donations.payments.types import (
    CardDeclined,
    PaymentError,
    PaymentUnavailable,
    PortalUnavailable,
    ProviderError,
    StripeProblem,
)

UNREACHABLE = {"APIConnectionError", "RateLimitError"}

READER_UNREACHABLE = (
    "We couldn't reach our payment provider just now. Please try again in a minute."
)
READER_REFUSED = (
    "Our payment provider couldn't accept this payment. "
    "Please check the amount and currency and try again."
)
READER_REPEATED = "This payment was already started. Please reload the page and retry."
READER_DOWN = (
    "Payments are not available at the moment. Please try again later; nothing was charged."
)
PORTAL_MESSAGE = (
    "We couldn't open the page to manage your membership just now. "
    "Please try again in a few minutes, or write to us if it keeps happening."
)


def reader_error(problem: StripeProblem) -> PaymentError:
    """The error a reader sees when Checkout (or the customer before it) is refused."""
    if problem.kind == "CardError":
        return CardDeclined(problem.message or "Your card was declined.", problem)
    if problem.kind in UNREACHABLE:
        return PaymentUnavailable(READER_UNREACHABLE, problem)
    if problem.kind == "IdempotencyError":
        return PaymentError(READER_REPEATED, problem)
    if problem.kind == "InvalidRequestError":
        return PaymentError(READER_REFUSED, problem)
    return PaymentUnavailable(READER_DOWN, problem)


def portal_error(problem: StripeProblem) -> PortalUnavailable:
    """The error a member sees when the Billing Portal can't be opened: payment-neutral."""
    return PortalUnavailable(PORTAL_MESSAGE, problem)


def operator_error(doing: str, problem: StripeProblem) -> ProviderError:
    """The error an operator reads from a command: Stripe's words and what to do next."""
    return ProviderError(doing, problem, advice_for(problem))


def advice_for(problem: StripeProblem) -> str:
    """What the operator can do about a refusal, by kind, code and parameter."""
    if problem.kind == "AuthenticationError":
        return (
            "Check STRIPE_SECRET_KEY: it must be a current secret key (sk_live_… or sk_test_…) "
            "of this account, copied whole from the Dashboard (Developers → API keys)."
        )
    if problem.kind == "PermissionError":
        return (
            "The key is a restricted key without this permission: give it write access to "
            "Webhook Endpoints and Customer portal (and read access to what `stripe sync` "
            "reads), or use the account's secret key."
        )
    if problem.kind in UNREACHABLE:
        return "Stripe could not be reached or asked us to slow down: try again in a minute."
    if problem.param == "url" or (problem.param or "").endswith("[url]"):
        return (
            "Give the public https:// address of this site's /stripe/webhook (Stripe refuses "
            "localhost, private addresses and, in live mode, plain http). On a laptop use "
            "`flask --app wsgi stripe setup --local` and `stripe listen` instead."
        )
    if problem.param == "api_version":
        return "This Stripe account does not offer our pinned API version: upgrade the SDK."
    if problem.kind == "InvalidRequestError":
        return (
            "Fix the value Stripe names and run the command again; nothing else was changed "
            "by this request."
        )
    return "Stripe had a problem on its side: try again later (status.stripe.com)."
