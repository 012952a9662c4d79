"""Currencies the emulator accepts, Stripe's minimum charge amounts, and display of amounts."""

from __future__ import annotations

# Minor-unit exponent per currency: Stripe treats JPY as zero-decimal.
EXPONENTS: dict[str, int] = {
    "usd": 2,
    "eur": 2,
    "gbp": 2,
    "jpy": 0,
    "chf": 2,
    "cad": 2,
    "aud": 2,
    "sek": 2,
    "pln": 2,
    "uah": 2,
}

# Stripe's minimum charge per currency, in minor units (docs: "Minimum and maximum charge
# amounts"). UAH is not in Stripe's table; it settles in USD, so about $0.50 worth is used.
MINIMUMS: dict[str, int] = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "jpy": 50,
    "chf": 50,
    "cad": 50,
    "aud": 50,
    "sek": 300,
    "pln": 200,
    "uah": 2000,
}

# Stripe's maximum amount for a single charge: eight digits in minor units.
MAXIMUM = 99_999_999

_SYMBOLS: dict[str, str] = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "cad": "CA$",
    "aud": "A$",
    "uah": "₴",
}


def format_amount(minor: int, currency: str) -> str:
    """Show minor units as Stripe's hosted pages do: "$8.00", "€10.00", "¥500", "CHF 8.00"."""
    code = currency.lower()
    exponent = EXPONENTS.get(code, 2)
    major = f"{minor / 10**exponent:,.{exponent}f}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{major}" if symbol else f"{code.upper()} {major}"
