"""What the supporter page offers: intervals, preset amounts per currency, and the card fee."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from donations.currencies import currency
from donations.fees import Fee
from donations.money import exponent, format_money, normalise

# In the order every ask shows them (the support box and /support alike): monthly first, as
# it is what sustains the newsroom and what readers elsewhere see first.
INTERVALS = ("month", "year", "once")
INTERVAL_NAMES = {"month": "Monthly", "year": "Yearly", "once": "Once"}  # the tabs' words
CUSTOM = "custom"  # the "Another amount" choice: the amount is in the custom_amount field

# Preset amounts in "dollar-like" major units, with the suggested one second; each currency
# scales them (currencies.Currency.preset_scale) to a familiar round figure. The one list
# both asks offer: the box and /support never disagree.
BASE_PRESETS: dict[str, tuple[int, ...]] = {
    "month": (5, 8, 15),
    "year": (50, 80, 150),
    "once": (10, 25, 50),
}
SUGGESTED_INDEX = 1


@dataclass(frozen=True)
class Preset:
    """One preset amount on the page."""

    minor: int
    label: str
    suggested: bool


def presets(interval: str, code: str) -> list[Preset]:
    """Preset amounts for an interval and currency, one of them marked as suggested."""
    cur = currency(code)
    out = []
    for index, major in enumerate(BASE_PRESETS[interval]):
        minor = major * cur.preset_scale * 10 ** exponent(cur.code)
        out.append(Preset(minor, format_money(minor, cur.code), index == SUGGESTED_INDEX))
    return out


def suggested(interval: str, code: str) -> Preset:
    """The preset we suggest for this interval and currency."""
    return next(p for p in presets(interval, code) if p.suggested)


def action_label(interval: str, amount_minor: int, code: str) -> str:
    """The button text that says exactly what happens: "Give €10 once", "Join for $8 / month"."""
    money = format_money(amount_minor, code)
    if interval == "once":
        return f"Give {money} once"
    return f"Join for {money} / {interval}"


def card_fee(code: str) -> Fee:
    """The card fee of an offered currency: STRIPE_FEE_TABLE over the defaults (config)."""
    return current_app.config["STRIPE_FEES"][normalise(code)]


def settlement_currency() -> str:
    """The currency the Stripe account settles in (STRIPE_SETTLEMENT_CURRENCY)."""
    return current_app.config["STRIPE_SETTLEMENT_CURRENCY"]
