"""The supporter page's content, computed from the parsed form (no request code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from donations.fees import fee_for, fee_rule
from donations.money import MoneyError, exponent, format_money, major, symbol_prefix
from donations.support.options import (
    CUSTOM,
    INTERVAL_NAMES,
    INTERVALS,
    Preset,
    action_label,
    card_fee,
    presets,
    settlement_currency,
    suggested,
)
from donations.support.services import choice_query, to_amount

if TYPE_CHECKING:
    from donations.support.forms import SupportForm


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
    symbol: str  # what goes before the number ("$", "CHF\u00a0"), for the page's script
    fee_rate: int  # basis points (1.5 % = 150), for the page's script
    fee_fixed: int  # minor units, for the page's script


def build(form: SupportForm, *, attempt: str, member: bool = False) -> SupportPage:
    """Compute the page for the form's (possibly invalid) values; invalid ones fall back.

    A member is thanked and offered a one-time gift only (their membership is on /account).
    """
    currencies = form.currencies
    offered = ("once",) if member else INTERVALS
    interval = form.interval.data if form.interval.data in offered else offered[0]
    code = form.currency.data if form.currency.data in currencies else currencies[0]
    choices = presets(interval, code)
    preset_values = {major(p.minor, code) for p in choices}
    selected, custom = form.amount.data, form.custom_amount.data
    if custom.strip():  # a typed amount wins over a preset left selected (as at checkout)
        selected = CUSTOM
    elif selected not in preset_values and selected != CUSTOM:
        # An amount from a link or a round trip through sign-up that isn't a preset.
        custom, selected = (selected, CUSTOM) if selected else (custom, "")
    if not selected:
        selected = major(suggested(interval, code).minor, code)
    amount = _chargeable(custom if selected == CUSTOM else selected, code)
    if amount is None:  # the button shows the suggested amount until the chosen one is valid
        amount = suggested(interval, code).minor
    rule = card_fee(code)
    fee = fee_for(amount, rule)
    return SupportPage(
        interval=interval,
        currency=code,
        currencies=currencies,
        intervals=[(key, INTERVAL_NAMES[key]) for key in offered],
        presets=choices,
        selected=selected,
        custom_amount=custom,
        cover_fee=form.cover_fee.data,
        fee_rule=fee_rule(code, rule),
        fee_label=format_money(fee, code),
        button_label=action_label(interval, amount + (fee if form.cover_fee.data else 0), code),
        article=form.article.data[:120],
        attempt=attempt,
        exponent=exponent(code),
        symbol=symbol_prefix(code),
        fee_rate=rule.rate_bp,
        fee_fixed=rule.fixed,
    )


def _chargeable(typed: str, code: str) -> int | None:
    try:
        return to_amount(typed, code, settlement_currency())
    except MoneyError:
        return None


@dataclass(frozen=True)
class Again:
    """The choice a reader left Checkout with: a link back to it and what it was."""

    url_query: dict[str, str]
    label: str


def again(form: SupportForm) -> Again:
    """The same choice again, for a reader back from Checkout; form.validate() passed."""
    choice = form.choice()
    return Again(url_query=choice_query(choice), label=choice.label)


def switch_query(form: SupportForm, interval: str) -> dict[str, str]:
    """/support's query for the same choice under another frequency: a typed amount stays,
    a preset (of the old frequency's list) does not."""
    query = retry_query(form)
    query.pop("amount", None)
    if interval in INTERVALS:
        query["interval"] = interval
    return query


def retry_query(form: SupportForm) -> dict[str, str]:
    """The fields of a (refused) choice as /support's query, to show it again on reload."""
    fields = ("interval", "currency", "amount", "custom_amount", "article")
    query = {name: form[name].data.strip() for name in fields if (form[name].data or "").strip()}
    if form.cover_fee.data:
        query["cover_fee"] = "1"
    return {name: value[:120] for name, value in query.items()}
