"""The card fee a reader may choose to cover, per currency: STRIPE_FEE_TABLE and its defaults.

Stripe's fee depends on where the account is and where the card comes from, not on the
currency as such; a newsroom offering a currency mostly takes it from readers in that
currency's country, on an account there. So the defaults are each region's standard domestic
card price, and STRIPE_FEE_TABLE overrides them currency by currency (custom pricing, or an
account in another country).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from donations.money import format_money


@dataclass(frozen=True)
class Fee:
    """A card fee: a rate in basis points (1.5 % = 150) plus a fixed part in minor units."""

    rate_bp: int
    fixed: int

    @property
    def rate_text(self) -> str:
        """The rate as people write it: "1.5%", "2.9%", "3.6%"."""
        return f"{Decimal(self.rate_bp).scaleb(-2).normalize():f}%"


# Stripe's standard prices for domestic cards, per region:
#   usd: stripe.com/pricing (US): 2.9% + 30¢.
#   eur: support.stripe.com "Pricing updates for businesses based in the European Economic
#        Area" (April 2023): standard EEA cards 1.5% + €0.25; the same page gives the €0.25
#        in the non-euro EEA currencies: sek 1.80 kr, pln 1 zł.
#   gbp: support.stripe.com "Pricing updates for businesses in the United Kingdom": standard
#        UK cards 1.5% + 20p.
#   cad: stripe.com/ca/pricing 2.9% + C$0.30; aud: stripe.com/au/pricing 1.7% + A$0.30;
#   chf: stripe.com/ch/pricing 2.9% + CHF 0.30; jpy: stripe.com/jp/pricing 3.6%.
#   uah: Stripe has no accounts in Ukraine, so a hryvnia payment reaches an account abroad
#        as an international card (EEA: 3.25% + €0.25) converted (+2%): 5.25% + about ₴12.
DEFAULT_FEES: dict[str, Fee] = {
    "usd": Fee(290, 30),
    "eur": Fee(150, 25),
    "gbp": Fee(150, 20),
    "sek": Fee(150, 180),
    "pln": Fee(150, 100),
    "cad": Fee(290, 30),
    "aud": Fee(170, 30),
    "chf": Fee(290, 30),
    "jpy": Fee(360, 0),
    "uah": Fee(525, 1200),
}
MAX_RATE_BP = 2000  # 20 %: anything above is a typo, not a card fee

_ENTRY = re.compile(r"([a-z]{3}):(\d{1,2}(?:\.\d{1,2})?)%(?:\+(\d{1,7}))?", re.ASCII)
EXAMPLE = "usd:2.9%+30,eur:1.5%+25"


def parse_fee_table(raw: str) -> dict[str, Fee]:
    """Read `usd:2.9%+30,eur:1.5%+25` (fixed part in minor units, optional); else ValueError."""
    table: dict[str, Fee] = {}
    for part in str(raw or "").split(","):
        entry = part.strip().lower().replace(" ", "")
        if not entry:
            continue
        found = _ENTRY.fullmatch(entry)
        if found is None:
            raise ValueError(
                f"STRIPE_FEE_TABLE entry {part.strip()!r} is not code:rate%+fixed "
                f"(fixed in minor units), e.g. {EXAMPLE}"
            )
        code, rate, fixed = found.groups()
        rate_bp = int(Decimal(rate).scaleb(2))
        if rate_bp >= MAX_RATE_BP:
            raise ValueError(f"STRIPE_FEE_TABLE rate for {code} must be under 20%, got {rate}%")
        if code in table:
            raise ValueError(f"STRIPE_FEE_TABLE lists {code} twice")
        table[code] = Fee(rate_bp, int(fixed or 0))
    return table


def fee_table(raw: str) -> dict[str, Fee]:
    """The defaults with the setting's entries on top, currency by currency."""
    return {**DEFAULT_FEES, **parse_fee_table(raw)}


def fee_for(net_minor: int, fee: Fee) -> int:
    """The extra, in minor units, that makes net_minor arrive after the card fee.

    gross = (net + fixed) / (1 - rate), rounded up to a whole minor unit.
    """
    gross = -(-(net_minor + fee.fixed) * 10_000 // (10_000 - fee.rate_bp))
    return gross - net_minor


def fee_rule(code: str, fee: Fee) -> str:
    """The fee rule in words, for readers without JavaScript: "1.5% + €0.25"."""
    if not fee.fixed:
        return fee.rate_text
    return f"{fee.rate_text} + {format_money(fee.fixed, code)}"
