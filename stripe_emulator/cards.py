"""Stripe's test cards and the checks the Checkout page makes before charging a card."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from .errors import CardDeclined, CardError

# Numbers from Stripe's testing docs: None succeeds, a tuple is (decline_code, code, message).
_DECLINED = "Your card was declined."
TEST_CARDS: dict[str, tuple[str, str, str] | None] = {
    "4242424242424242": None,
    "4000056655665556": None,
    "5555555555554444": None,
    "378282246310005": None,
    "4000000000007726": None,
    "4000000000005126": None,
    "4000000000000002": ("generic_decline", "card_declined", _DECLINED),
    "4000000000009995": (
        "insufficient_funds",
        "card_declined",
        "Your card has insufficient funds.",
    ),
    "4000000000009987": ("lost_card", "card_declined", _DECLINED),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": (
        "incorrect_cvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
}

# Refund test cards (docs.stripe.com/testing, "Simulate an asynchronous refund"): the charge
# succeeds; a refund of it changes status "some time later" (when the emulator's clock moves).
REFUND_BEHAVIOUR: dict[str, tuple[str, str]] = {
    # (status at creation, status it settles to)
    "4000000000007726": ("pending", "succeeded"),
    "4000000000005126": ("succeeded", "failed"),
}

# Shown on the hosted page so a person knows what to type.
TEST_CARD_HINTS: list[tuple[str, str]] = [
    ("4242 4242 4242 4242", "Succeeds"),
    ("4000 0000 0000 0002", "Declined (generic decline)"),
    ("4000 0000 0000 9995", "Declined (insufficient funds)"),
    ("5555 5555 5555 4444", "Succeeds (Mastercard)"),
]


@dataclass(frozen=True)
class Card:
    """A card that passed the checks: what a charge's payment_method_details shows."""

    number: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str

    @property
    def network(self) -> str:
        """The card network, as Stripe names it."""
        return self.brand


def luhn_ok(number: str) -> bool:
    """Return whether a digit string passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    """Return Stripe's brand name for a card number."""
    if number.startswith(("34", "37")):
        return "amex"
    if number.startswith("5") or (number[:4].isdigit() and 2221 <= int(number[:4]) <= 2720):
        return "mastercard"
    if number.startswith("4"):
        return "visa"
    return "unknown"


def check_card(
    number: str,
    exp_month: int | str | None = None,
    exp_year: int | str | None = None,
    cvc: str | None = None,
    *,
    today: dt.date | None = None,
) -> Card:
    """Validate a card as Stripe's page would; raise CardError or CardDeclined."""
    card = read_card(number, exp_month, exp_year, cvc, today=today)
    declined = decline_of(card)
    if declined is not None:
        raise declined
    return card


def decline_of(card: Card) -> CardDeclined | None:
    """How the issuer declines this card (Stripe's test numbers), or None if it pays."""
    outcome = TEST_CARDS.get(card.number, ("test_mode_live_card", "card_declined", _live_message()))
    if outcome is None:
        return None
    decline_code, code, message = outcome
    return CardDeclined(message, code=code, decline_code=decline_code)


def read_card(
    number: str,
    exp_month: int | str | None = None,
    exp_year: int | str | None = None,
    cvc: str | None = None,
    *,
    today: dt.date | None = None,
) -> Card:
    """Check what the page checks before any charge (number, expiry, CVC); raise CardError."""
    digits = "".join(ch for ch in (number or "") if not ch.isspace() and ch != "-")
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        raise CardError("Your card number is invalid.", code="invalid_number", param="number")
    month, year = _expiry(exp_month, exp_year, today or dt.datetime.now(dt.UTC).date())
    if cvc is not None:
        cvc = cvc.strip()
        if not cvc:
            raise CardError(
                "Your card's security code is incomplete.", code="incomplete_cvc", param="cvc"
            )
        if not cvc.isdigit() or not 3 <= len(cvc) <= 4:
            raise CardError(
                "Your card's security code is invalid.", code="invalid_cvc", param="cvc"
            )
    fingerprint = hashlib.sha256(digits.encode()).hexdigest()[:16]
    return Card(digits, brand_of(digits), digits[-4:], month, year, fingerprint)


def _expiry(
    exp_month: int | str | None, exp_year: int | str | None, today: dt.date
) -> tuple[int, int]:
    # No expiry given (a test control charging a card directly): a date safely in the future.
    if exp_month is None and exp_year is None:
        return 12, today.year + 5
    if not str(exp_month or "").strip() or not str(exp_year or "").strip():
        raise CardError(
            "Your card's expiration date is incomplete.", code="incomplete_expiry", param="exp"
        )
    try:
        month = int(str(exp_month).strip())
    except ValueError:
        month = 0
    if not 1 <= month <= 12:
        raise CardError(
            "Your card's expiration month is invalid.", code="invalid_expiry_month", param="exp"
        )
    try:
        year = int(str(exp_year).strip())
    except ValueError:
        raise CardError(
            "Your card's expiration year is invalid.", code="invalid_expiry_year", param="exp"
        ) from None
    if year < 100:
        year += 2000
    if (year, month) < (today.year, today.month):
        raise CardError(
            "Your card's expiration date is in the past.",
            code="invalid_expiry_year",
            param="exp",
        )
    return month, year


def _live_message() -> str:
    return (
        "Your card was declined. Your request was in test mode, but used a non test (live) "
        "card. For a list of valid test cards, visit: https://stripe.com/docs/testing."
    )
