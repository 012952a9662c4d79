"""Money as integer minor units plus a lowercase ISO currency, and its display."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Currency:
    """One currency we accept: its minor-unit exponent and how to show it."""

    code: str
    symbol: str
    exponent: int  # 2 for cents; 0 for zero-decimal currencies such as JPY
    min_major: int = 1
    max_major: int = 10_000


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("usd", "$", 2),
        Currency("eur", "€", 2),
        Currency("gbp", "£", 2),
        Currency("cad", "CA$", 2),
        Currency("aud", "A$", 2),
        Currency("chf", "CHF ", 2),
        Currency("sek", "SEK ", 2, min_major=5, max_major=100_000),
        Currency("pln", "zł ", 2, min_major=2, max_major=40_000),
        Currency("uah", "₴", 2, min_major=20, max_major=400_000),
        Currency("jpy", "¥", 0, min_major=100, max_major=1_500_000),
    )
}


# What a reader may type: ASCII digits, an optional sign, optional thousands commas in groups
# of three, and a decimal point. Nothing else: "1e2" (= 100), full-width digits and
# "7,50" (= 750 once commas are dropped) would all charge something the reader didn't mean.
_AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"-?\d+,\d{1,2}", re.ASCII)
_MAX_TYPED = 32  # characters; far beyond any amount we take, short enough to parse cheaply
NOT_A_NUMBER = "Please enter the amount as a number, for example 10 or 7.50."


class MoneyError(ValueError):
    """An amount a reader typed cannot be charged; the message says why."""


def currency(code: str) -> Currency:
    """Return the Currency for a code, or raise MoneyError for one we don't accept."""
    found = CURRENCIES.get((code or "").strip().lower())
    if found is None:
        raise MoneyError(f"We can't take payments in {code!r}.")
    return found


def to_minor(amount: str, code: str) -> int:
    """Parse a typed major-unit amount ("7.50") into minor units, within the limits."""
    cur = currency(code)
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
    minor = value.scaleb(cur.exponent)
    if minor != minor.to_integral_value():
        places = "whole amounts" if cur.exponent == 0 else f"at most {cur.exponent} decimals"
        raise MoneyError(f"Amounts in {cur.code.upper()} take {places}.")
    if value < cur.min_major:
        raise MoneyError(f"The smallest amount we can take is {format_major(cur.min_major, cur)}.")
    if value > cur.max_major:
        raise MoneyError(f"The largest amount we can take is {format_major(cur.max_major, cur)}.")
    return int(minor)


def format_major(major: int, cur: Currency) -> str:
    """Show a whole major-unit amount with its symbol, e.g. "€10,000"."""
    return f"{cur.symbol}{major:,}"


def format_money(minor: int, code: str) -> str:
    """Show minor units as a reader expects: "$8", "€7.50", "¥1,000"."""
    cur = currency(code)
    if cur.exponent == 0:
        return f"{cur.symbol}{minor:,}"
    major, rest = divmod(abs(minor), 10**cur.exponent)
    sign = "-" if minor < 0 else ""
    if rest == 0:
        return f"{sign}{cur.symbol}{major:,}"
    return f"{sign}{cur.symbol}{major:,}.{rest:0{cur.exponent}d}"


def major(minor: int, code: str) -> str:
    """Minor units as the major-unit string a form carries: 800 → "8", 750 → "7.50"."""
    exponent = currency(code).exponent
    value = Decimal(minor).scaleb(-exponent)
    return (
        str(value.quantize(Decimal(1))) if value == value.to_integral() else f"{value:.{exponent}f}"
    )
