"""The currencies we offer readers: presets, limits, and minimums at or above Stripe's.

A currency we *offer* (DONATION_CURRENCIES) needs presets and limits, below. A currency we
may *receive* is any code at all (donations.money): it needs nothing from this module.

Minimums follow Stripe's rule (docs.stripe.com/currencies, "Minimum and maximum charge
amounts"): a charge must reach Stripe's minimum for its own currency, and once converted to
the account's settlement currency (STRIPE_SETTLEMENT_CURRENCY) it must reach that currency's
minimum too. We can't know tomorrow's exchange rate, so the settlement minimum is converted
at a fixed reference rate, raised by FX_MARGIN for rates that move against us, and rounded up
to a whole unit; our own floor (a gift of ¥1 makes no sense) applies on top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from donations.money import MoneyError, exponent, format_money, normalise, parse_major

# Stripe's minimum charge per currency, in Stripe's minor units, as its docs list them
# (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). Every settlement currency
# Stripe pays out in is here; a presentment currency that isn't (UAH) has only the
# settlement rule ("$0.50 US or equivalent in charge currency", API reference, `amount`).
STRIPE_MINIMUMS: dict[str, int] = {
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

# Units of each currency per US dollar: a rounded 2025 snapshot of mid-market rates. Only the
# minimums use it, with FX_MARGIN on top; update it when a rate moves by more than that.
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
    }.items()
}
# How far a rate may move against us before a minimum we accept falls under Stripe's.
FX_MARGIN = Decimal("1.3")
# Stripe's largest amount: eight digits in minor units (API reference, `amount`).
STRIPE_MAXIMUM = 99_999_999


@dataclass(frozen=True)
class Currency:
    """A currency we offer: our own floor and ceiling (major units) and how presets scale."""

    code: str
    floor_major: int = 1
    max_major: int = 10_000
    # Presets are "dollar-like" figures times this, so they read as familiar round amounts.
    preset_scale: int = 1


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("usd"),
        Currency("eur"),
        Currency("gbp"),
        Currency("cad"),
        Currency("aud"),
        Currency("chf"),
        Currency("sek", floor_major=5, max_major=100_000, preset_scale=10),
        Currency("pln", floor_major=2, max_major=40_000, preset_scale=4),
        Currency("uah", floor_major=20, max_major=400_000, preset_scale=40),
        Currency("jpy", floor_major=100, max_major=1_500_000, preset_scale=150),
    )
}


@dataclass(frozen=True)
class Limits:
    """The smallest and largest amount we take in one currency, in minor units."""

    minimum: int
    maximum: int


def currency(code: str) -> Currency:
    """The Currency we offer for a code, or MoneyError for one we don't offer."""
    found = CURRENCIES.get(normalise(code))
    if found is None:
        raise MoneyError(f"We can't take payments in {code!r}.")
    return found


def check_settlement(code: str) -> str:
    """A settlement currency Stripe lists a minimum for, normalised; else ValueError."""
    code = normalise(code)
    if code not in STRIPE_MINIMUMS or code not in USD_RATES:
        raise ValueError(
            f"STRIPE_SETTLEMENT_CURRENCY must be one of {', '.join(sorted(STRIPE_MINIMUMS))} "
            f"(the currency Stripe pays out in), got {code!r}"
        )
    return code


def stripe_floor(code: str, settlement: str) -> Decimal:
    """The least Stripe takes in `code` (major units) for this settlement, with our margin."""
    code, settlement = normalise(code), normalise(settlement)
    own = Decimal(STRIPE_MINIMUMS.get(code, 0)).scaleb(-exponent(code))
    if code == settlement:
        return own
    settle = Decimal(STRIPE_MINIMUMS[settlement]).scaleb(-exponent(settlement))
    converted = settle / USD_RATES[settlement] * USD_RATES[code] * FX_MARGIN
    return max(own, converted)


def limits(code: str, settlement: str) -> Limits:
    """Our limits for an offered currency when the account settles in `settlement`."""
    cur = currency(code)
    places = exponent(cur.code)
    least = max(cur.floor_major, math.ceil(stripe_floor(cur.code, settlement)))
    most = min(cur.max_major * 10**places, STRIPE_MAXIMUM)
    return Limits(minimum=least * 10**places, maximum=most)


def to_minor(amount: str, code: str, settlement: str) -> int:
    """Parse a typed major-unit amount ("7.50") into minor units, within our limits."""
    cur = currency(code)
    minor = parse_major(amount, cur.code)
    bounds = limits(cur.code, settlement)
    if minor < bounds.minimum:
        raise MoneyError(
            f"The smallest amount we can take is {format_money(bounds.minimum, cur.code)}."
        )
    if minor > bounds.maximum:
        raise MoneyError(
            f"The largest amount we can take is {format_money(bounds.maximum, cur.code)}."
        )
    return minor
