"""The ask in place: the support box's frequency, the preset amounts and "another amount"."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from donations.currencies import currency
from donations.money import exponent, symbol_prefix
from donations.support.options import (
    INTERVAL_NAMES,
    INTERVALS,
    Preset,
    action_label,
    presets,
    suggested,
)
from donations.support.page import major

ASK_INTERVALS = tuple((interval, INTERVAL_NAMES[interval]) for interval in INTERVALS)


@dataclass(frozen=True)
class AskGroup:
    """The amounts offered for one frequency (the presets; the suggested one checked)."""

    interval: str
    name: str
    presets: list[Preset]
    checked: str  # the suggested preset's major-unit value

    def value(self, preset: Preset, code: str) -> str:
        """The major-unit value a preset's radio posts."""
        return major(preset.minor, code)


@dataclass(frozen=True)
class Ask:
    """Everything the box's form shows, in the site's default currency."""

    currency: str
    symbol: str
    exponent: int
    groups: list[AskGroup]
    button_label: str  # for the default choice; the page's script follows changes


@functools.lru_cache(maxsize=32)
def build_ask(code: str) -> Ask:
    """The box's choices: monthly, yearly or once, three amounts each, in currency `code`."""
    # Kept per currency: the same for every reader and every request (nothing here reads
    # a setting or the database), and formatting nine amounts is most of a page's work.
    groups = []
    for interval, name in ASK_INTERVALS:
        choices = presets(interval, code)
        groups.append(
            AskGroup(interval, name, choices, major(suggested(interval, code).minor, code))
        )
    first = ASK_INTERVALS[0][0]
    cur = currency(code)
    return Ask(
        currency=cur.code,
        symbol=symbol_prefix(cur.code),
        exponent=exponent(cur.code),
        groups=groups,
        button_label=action_label(first, suggested(first, code).minor, code),
    )
