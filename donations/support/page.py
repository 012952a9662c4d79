"""The supporter page's content, computed from the request's values (no request code)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from donations.money import MoneyError, currency, format_money, to_minor
from donations.support.options import (
    FEE_FIXED_MINOR,
    FEE_RATE_PER_MILLE,
    INTERVALS,
    Preset,
    action_label,
    fee_for,
    fee_rule,
    presets,
    suggested,
)

INTERVAL_NAMES = {"once": "Give once", "month": "Monthly", "year": "Yearly"}


@dataclass(frozen=True)
class SupportPage:
    """Everything the supporter template shows."""

    interval: str
    currency: str
    currencies: list[str]
    intervals: list[tuple[str, str]]
    presets: list[Preset]
    selected: str  # a preset's major-unit value, or "custom"
    custom_amount: str
    cover_fee: bool
    fee_rule: str
    fee_label: str  # exact extra for the selected amount, e.g. "$0.55"
    button_label: str
    article: str
    attempt: str
    exponent: int
    symbol: str
    fee_rate: int  # per mille, for the page's script
    fee_fixed: int  # minor units, for the page's script


def major(minor: int, code: str) -> str:
    """Minor units as the major-unit string a form carries: 800 → "8", 750 → "7.50"."""
    exponent = currency(code).exponent
    value = Decimal(minor).scaleb(-exponent)
    return (
        str(value.quantize(Decimal(1))) if value == value.to_integral() else f"{value:.{exponent}f}"
    )


def build(values: Mapping[str, Any], config: Mapping[str, Any], *, attempt: str) -> SupportPage:
    """Compute the page for the given (possibly invalid) values; invalid ones fall back."""
    currencies = config["DONATION_CURRENCIES"]
    interval = values.get("interval") if values.get("interval") in INTERVALS else "month"
    code = str(values.get("currency") or "").lower()
    code = code if code in currencies else currencies[0]
    choices = presets(interval, code)
    preset_values = {major(p.minor, code) for p in choices}
    selected = str(values.get("amount") or "")
    custom = str(values.get("custom_amount") or "")
    if selected not in preset_values and selected != "custom":
        # An amount from a link or a round trip through sign-up that isn't a preset.
        custom, selected = (selected, "custom") if selected else (custom, "")
    if not selected:
        selected = major(suggested(interval, code).minor, code)
    amount = _amount(selected, custom, code) or suggested(interval, code).minor
    cover_fee = str(values.get("cover_fee") or "") in {"1", "on", "yes", "true"}
    fee = fee_for(amount, currency(code))
    return SupportPage(
        interval=interval,
        currency=code,
        currencies=currencies,
        intervals=[(key, INTERVAL_NAMES[key]) for key in INTERVALS],
        presets=choices,
        selected=selected,
        custom_amount=custom,
        cover_fee=cover_fee,
        fee_rule=fee_rule(code),
        fee_label=format_money(fee, code),
        button_label=action_label(interval, amount + (fee if cover_fee else 0), code),
        article=str(values.get("article") or "")[:120],
        attempt=attempt,
        exponent=currency(code).exponent,
        symbol=currency(code).symbol,
        fee_rate=FEE_RATE_PER_MILLE,
        fee_fixed=FEE_FIXED_MINOR.get(code, 0),
    )


def _amount(selected: str, custom: str, code: str) -> int | None:
    try:
        return to_minor(custom if selected == "custom" else selected, code)
    except MoneyError:
        return None


def choice_query(choice) -> dict[str, str]:
    """Query parameters that bring a reader back to the same choice after signing up."""
    query = {
        "interval": choice.interval,
        "currency": choice.currency,
        "amount": major(choice.amount, choice.currency),
    }
    if choice.cover_fee:
        query["cover_fee"] = "1"
    if choice.article:
        query["article"] = choice.article
    return query
