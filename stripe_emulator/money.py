"""Currencies the emulator accepts, Stripe's minimum charge amounts, and display of amounts.

Sources: docs.stripe.com/currencies ("Minor units in API amounts", "Zero-decimal currencies",
"Three-decimal currencies", "Minimum and maximum charge amounts") and the API reference's
`amount` ("The minimum amount is $0.50 US or equivalent in charge currency ... up to eight
digits").
"""

from __future__ import annotations

import math
from decimal import Decimal

# Stripe's zero-decimal currencies: the amount is the number of units.
ZERO_DECIMAL = frozenset(
    [
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
    ]
)
# Three-decimal currencies: thousandths, and the last digit must be 0 ("Your integration must
# round amounts to the nearest ten. For example, 5.124 KWD must be rounded to 5120 or 5130").
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])

# Stripe's minimum charge per currency, in minor units (the docs' table, which lists every
# settlement currency). A charge must reach its own currency's figure, and once converted to
# the account's settlement currency, that currency's figure.
MINIMUMS: dict[str, int] = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}

# Stripe converts at its live rate, which the emulator can't know: it converts at this fixed
# snapshot (units per US dollar, rounded 2025 mid-market rates) and nothing kinder. These are
# also the currencies it accepts: Stripe's table, plus UAH and KWD, which the app's tests use.
USD_RATES: dict[str, Decimal] = {
    code: Decimal(rate)
    for code, rate in {
        "usd": "1",
        "aed": "3.67",
        "aud": "1.53",
        "bgn": "1.68",
        "brl": "5.4",
        "cad": "1.38",
        "chf": "0.80",
        "czk": "21.0",
        "dkk": "6.4",
        "eur": "0.86",
        "gbp": "0.74",
        "hkd": "7.8",
        "huf": "340",
        "inr": "88",
        "jpy": "147",
        "mxn": "18.5",
        "myr": "4.2",
        "nok": "10.1",
        "nzd": "1.7",
        "pln": "3.65",
        "ron": "4.35",
        "sek": "9.5",
        "sgd": "1.29",
        "thb": "32.5",
        "uah": "41.5",
        "kwd": "0.306",
    }.items()
}
SUPPORTED = frozenset(USD_RATES)

# Stripe's maximum amount for a single charge: eight digits in minor units.
MAXIMUM = 99_999_999

_SYMBOLS: dict[str, str] = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "cad": "CA$",
    "aud": "A$",
    "mxn": "MX$",
    "uah": "₴",
}


def exponent(currency: str) -> int:
    """Stripe's minor-unit exponent: 0, 3, or 2 for every other currency."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def minimum(currency: str, settlement: str) -> int:
    """The smallest amount (minor units) Stripe charges in `currency` for this settlement."""
    code, settle = currency.lower(), settlement.lower()
    own = MINIMUMS.get(code, 0)
    floor = Decimal(MINIMUMS[settle]).scaleb(-exponent(settle))
    converted = floor / USD_RATES[settle] * USD_RATES[code]
    return max(own, math.ceil(converted.scaleb(exponent(code))))


def format_amount(minor: int, currency: str) -> str:
    """Show minor units as Stripe's hosted pages do: "$8.00", "€10.00", "¥500", "CHF 8.00"."""
    code = currency.lower()
    places = exponent(code)
    major = f"{Decimal(minor).scaleb(-places):,.{places}f}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{major}" if symbol else f"{code.upper()} {major}"
