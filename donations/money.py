"""Money in any currency: Stripe's minor units for every code, typed amounts, and display.

Amounts are integer minor units plus a lowercase ISO 4217 code, exactly as Stripe sends them.
This module knows every code, not only the ones we offer (donations.currencies): a payment in
a currency the site never listed is recorded as it comes and shown here, and nothing in it
raises on a currency. Display goes through Babel, so other locales can follow (issue 23).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache, lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_symbol, list_currencies

# Stripe's API amounts are in Stripe's minor units, which are not always ISO 4217's or CLDR's
# (Babel's get_currency_precision): docs.stripe.com/currencies, "Minor units in API amounts".
# "Zero-decimal currencies": the amount is the number of units.
ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
# "Three-decimal currencies": thousandths, with the last digit always 0 in charges.
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
# Every other code is two-decimal in Stripe's API ("unless otherwise specified"), including
# the "Special cases": ISK (whole krónur, sent as multiples of 100), and HUF and TWD (two
# decimals in charges, whole units in payouts). CLDR gives ISK, HUF, COP, IDR and ALL no
# decimals: reading Stripe's amounts with Babel's precision would be off by a factor of 100.
DEFAULT_LOCALE = "en"
NBSP = "\u00a0"

_CODE = re.compile(r"[a-z]{3}", re.ASCII)
# What a reader may type: ASCII digits, an optional sign, optional thousands commas in groups
# of three, and a decimal point. Nothing else: "1e2" (= 100), full-width digits and
# "7,50" (= 750 once commas are dropped) would all charge something the reader didn't mean.
_AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"-?\d+,\d{1,2}", re.ASCII)
_MAX_TYPED = 32  # characters; far beyond any amount we take, short enough to parse cheaply
NOT_A_NUMBER = "Please enter the amount as a number, for example 10 or 7.50."


class MoneyError(ValueError):
    """An amount a reader typed cannot be charged; the message says why."""


def normalise(code: str | None) -> str:
    """A currency code as we store it: stripped and lowercase."""
    return (code or "").strip().lower()


def exponent(code: str) -> int:
    """Stripe's minor-unit exponent for any currency code: 0, 2 or 3."""
    code = normalise(code)
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


@cache
def _iso_codes() -> frozenset[str]:
    return frozenset(c.lower() for c in list_currencies())


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code (current or historical) that Babel knows."""
    return normalise(code) in _iso_codes()


def to_decimal(minor: int, code: str) -> Decimal:
    """Minor units as an exact Decimal of major units: 12340 KWD → 12.340."""
    return Decimal(minor).scaleb(-exponent(code))


def plain(minor: int, code: str) -> str:
    """Major units with every decimal the currency has, for spreadsheets: "8.00", "12.340"."""
    places = exponent(code)
    return f"{to_decimal(minor, code):.{places}f}"


def major(minor: int, code: str) -> str:
    """Minor units as the major-unit string a form carries: 800 → "8", 750 → "7.50"."""
    value = to_decimal(minor, code)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return f"{value:.{exponent(code)}f}"


@cache
def _pattern(locale: str, places: int, spaced: bool) -> str:
    """The locale's currency pattern with exactly `places` decimals."""
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    pattern = re.sub(r"\.0+", "." + "0" * places if places else "", pattern, count=1)
    if spaced and pattern.startswith("¤"):
        # CLDR's currency spacing, which Babel leaves out: "KWD 12.340", not "KWD12.340".
        pattern = "¤" + NBSP + pattern[1:]
    return pattern


@cache
def symbol(code: str, locale: str = DEFAULT_LOCALE) -> str:
    """The locale's symbol for a currency: "$", "€", "CA$", "KWD"."""
    return str(get_currency_symbol(normalise(code).upper(), locale))


def symbol_prefix(code: str, locale: str = DEFAULT_LOCALE) -> str:
    """What goes before the number in this locale ("$", "KWD\u00a0"), for the page's script."""
    mark = symbol(code, locale)
    return mark + NBSP if mark[-1:].isalpha() else mark


@lru_cache(maxsize=8192)
def format_money(minor: int, code: str, locale: str = DEFAULT_LOCALE) -> str:
    """Show minor units as a reader expects: "$8", "€7.50", "¥1,000", "KWD 12.340".

    Whole amounts drop their decimals; others show all of the currency's. Any code works,
    one we never offered too; something that is not a code at all is shown as it is.
    """
    code = normalise(code)
    if not _CODE.fullmatch(code):
        return f"{minor} {code.upper()}".strip()
    value = to_decimal(minor, code)
    places = 0 if value == value.to_integral_value() else exponent(code)
    spaced = symbol(code, locale)[-1:].isalpha()
    return format_currency(
        value,
        code.upper(),
        format=_pattern(locale, places, spaced),
        locale=locale,
        currency_digits=False,
    )


def parse_major(amount: str, code: str) -> int:
    """Parse a typed major-unit amount ("7.50") into positive minor units of `code`."""
    text = (amount or "").strip()
    if not text:
        raise MoneyError("Please enter an amount.")
    if _DECIMAL_COMMA.fullmatch(text):
        raise MoneyError("Please use a point for decimals, for example 7.50.")
    if len(text) > _MAX_TYPED or not _AMOUNT.fullmatch(text) or not any(c.isdigit() for c in text):
        raise MoneyError(NOT_A_NUMBER)
    value = Decimal(text.replace(",", ""))
    if value <= 0:
        raise MoneyError("The amount must be more than zero.")
    places = exponent(code)
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        allowed = "whole amounts" if places == 0 else f"at most {places} decimals"
        raise MoneyError(f"Amounts in {normalise(code).upper()} take {allowed}.")
    return int(minor)
