"""What the supporter page offers: intervals, preset amounts per currency, and the card fee."""

from __future__ import annotations

from dataclasses import dataclass

from donations.money import Currency, currency, format_money

INTERVALS = ("once", "month", "year")
CUSTOM = "custom"  # the "Another amount" choice: the amount is in the custom_amount field

# Preset amounts in "dollar-like" major units, with the suggested one second.
BASE_PRESETS: dict[str, tuple[int, ...]] = {
    "once": (10, 25, 50, 100),
    "month": (5, 8, 15, 25),
    "year": (50, 80, 150, 250),
}
SUGGESTED_INDEX = 1

# Presets in other currencies are the base presets scaled to a familiar round figure.
SCALE: dict[str, int] = {"sek": 10, "pln": 4, "uah": 40, "jpy": 150}

# Card processing fee we ask readers to cover when they choose to: rate plus fixed part.
FEE_RATE_PER_MILLE = 29  # 2.9 %
FEE_FIXED_MINOR: dict[str, int] = {
    "usd": 30,
    "eur": 25,
    "gbp": 20,
    "cad": 30,
    "aud": 30,
    "chf": 30,
    "sek": 300,
    "pln": 100,
    "uah": 1000,
    "jpy": 40,
}


@dataclass(frozen=True)
class Preset:
    """One preset amount on the page."""

    minor: int
    label: str
    suggested: bool


def presets(interval: str, code: str) -> list[Preset]:
    """Preset amounts for an interval and currency, one of them marked as suggested."""
    cur = currency(code)
    scale = SCALE.get(cur.code, 1)
    out = []
    for index, major in enumerate(BASE_PRESETS[interval]):
        minor = major * scale * 10**cur.exponent
        out.append(Preset(minor, format_money(minor, cur.code), index == SUGGESTED_INDEX))
    return out


def suggested(interval: str, code: str) -> Preset:
    """The preset we suggest for this interval and currency."""
    return next(p for p in presets(interval, code) if p.suggested)


def fee_for(net_minor: int, cur: Currency) -> int:
    """The extra, in minor units, that makes net_minor arrive after the card fee.

    gross = (net + fixed) / (1 - rate), rounded up to a whole minor unit.
    """
    fixed = FEE_FIXED_MINOR.get(cur.code, 0)
    gross = -(-(net_minor + fixed) * 1000 // (1000 - FEE_RATE_PER_MILLE))
    return gross - net_minor


def fee_rule(code: str) -> str:
    """The fee rule in words, for readers without JavaScript: "2.9% + $0.30"."""
    cur = currency(code)
    fixed = FEE_FIXED_MINOR.get(cur.code, 0)
    rate = f"{FEE_RATE_PER_MILLE / 10:g}%"
    return f"{rate} + {format_money(fixed, cur.code)}" if fixed else rate


def action_label(interval: str, amount_minor: int, code: str) -> str:
    """The button text that says exactly what happens: "Give €10 once", "Join for $8 / month"."""
    money = format_money(amount_minor, code)
    if interval == "once":
        return f"Give {money} once"
    return f"Join for {money} / {interval}"
