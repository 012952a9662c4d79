"""Balance transactions: what each charge, refund and dispute does to the account's balance.

Shape per the pinned API's BalanceTransaction (stripe-python v16 `_balance_transaction.py`;
the OpenAPI spec's `balance_transaction`): amount, available_on, balance_type, created,
currency, description, exchange_rate, fee, fee_details, net, reporting_category, source,
status, type. Every one settles in the account's settlement currency: a payment in another
currency is converted (then `exchange_rate` says by how much; API reference, "exchange_rate":
"the amount in currency A, times exchange_rate, would be the amount in currency B").

The emulator converts at its one FX snapshot (money.USD_RATES, the table its minimums use)
and charges the account's standard card price on the settled amount:
  usd: stripe.com/us/pricing, 2.9% + 30¢ per domestic card, +1% if currency conversion is
       required; disputes $15.00 each.
  eur: stripe.com/ie/pricing (support.stripe.com "Pricing updates for businesses based in
       the European Economic Area", April 2023), standard EEA cards 1.5% + €0.25, +2% for
       currency conversion; disputes €20.00.
  gbp: stripe.com/gb/pricing, standard UK cards 1.5% + 20p, +2% for conversion; disputes £20.
Other settlement currencies pay the US price converted at the snapshot (an approximation:
the emulator knows no other country's price list). Cards are taken as domestic cards.

A dispute's withdrawal carries the dispute fee (`fee` 1500 in USD, fee_details "Dispute fee",
as in Stripe's published `charge.dispute.created` payloads); a won dispute's reinstatement
gives the disputed amount back but not the fee (never kinder than Stripe: whether the fee
comes back depends on the account's country and its dispute pricing).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from . import objects as o
from .errors import invalid
from .forms import reject_unknown
from .listing import filter_created, filter_eq, paginate
from .money import USD_RATES, exponent
from .routing import fetch
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

# Settlement currency -> (rate in basis points, fixed part in its minor units, conversion
# surcharge in basis points, dispute fee in its minor units); sources in the docstring.
PRICING: dict[str, tuple[int, int, int, int]] = {
    "usd": (290, 30, 100, 1500),
    "eur": (150, 25, 200, 2000),
    "gbp": (150, 20, 200, 2000),
}
# Stripe pays out standard payments two business days later (US standard payout schedule).
AVAILABLE_AFTER = 2 * 86400
RATE_PLACES = Decimal("0.000001")  # Stripe shows rates to about six decimals


def _pricing(settlement: str) -> tuple[int, int, int, int]:
    if settlement in PRICING:
        return PRICING[settlement]
    rate, fixed, conversion, dispute = PRICING["usd"]
    return (
        rate,
        _convert_minor(fixed, "usd", settlement),
        conversion,
        _convert_minor(dispute, "usd", settlement),
    )


def exchange_rate(currency: str, settlement: str) -> Decimal | None:
    """Units of `settlement` per unit of `currency` at the snapshot; None when they match."""
    if currency == settlement:
        return None
    return (USD_RATES[settlement] / USD_RATES[currency]).quantize(RATE_PLACES)


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _convert_minor(amount: int, currency: str, settlement: str) -> int:
    rate = exchange_rate(currency, settlement)
    if rate is None:
        return amount
    major = Decimal(amount).scaleb(-exponent(currency)) * rate
    return _round(major.scaleb(exponent(settlement)))


def _fee_detail(amount: int, currency: str, description: str) -> list[dict[str, Any]]:
    if not amount:
        return []
    return [
        {
            "amount": amount,
            "application": None,
            "currency": currency,
            "description": description,
            "type": "stripe_fee",
        }
    ]


def record(
    emu: Emulator,
    tx: Tx,
    *,
    amount: int,
    currency: str,
    source: str,
    kind: str,
    category: str,
    description: str | None,
    fee: str | None = None,
) -> dict[str, Any]:
    """Store a balance transaction for `amount` (presentment currency, signed) from `source`.

    `fee`: "processing" (a card payment's price) or "dispute" (the dispute fee); else none.
    """
    settlement = emu.settlement_currency
    rate = exchange_rate(currency, settlement)
    settled = _convert_minor(amount, currency, settlement)
    pct, fixed, conversion, dispute_fee = _pricing(settlement)
    charged = 0
    label = "Stripe processing fees"
    if fee == "processing":
        bp = pct + (conversion if rate is not None else 0)
        charged = _round(Decimal(abs(settled)) * bp / 10_000) + fixed
    elif fee == "dispute":
        charged, label = dispute_fee, "Dispute fee"
    created = o.now()
    txn = {
        "id": o.new_id("txn_"),
        "object": "balance_transaction",
        "amount": settled,
        "available_on": created + AVAILABLE_AFTER,
        "balance_type": "payments",
        "created": created,
        "currency": settlement,
        "description": description,
        "exchange_rate": float(rate) if rate is not None else None,
        "fee": charged,
        "fee_details": _fee_detail(charged, settlement, label),
        "net": settled - charged,
        "reporting_category": category,
        "source": source,
        "status": "pending",
        "type": kind,
    }
    return tx.put(txn)


def for_charge(emu: Emulator, tx: Tx, ch: dict[str, Any]) -> str:
    """The balance transaction of a succeeded charge (type `charge`, the card price as fee)."""
    txn = record(
        emu,
        tx,
        amount=ch["amount"],
        currency=ch["currency"],
        source=ch["id"],
        kind="charge",
        category="charge",
        description=ch.get("description"),
        fee="processing",
    )
    return str(txn["id"])


def for_refund(emu: Emulator, tx: Tx, ref: dict[str, Any], *, failed: bool = False) -> str:
    """A refund's balance transaction (money out), or its failure's (money back); no fee."""
    sign, kind = (+1, "refund_failure") if failed else (-1, "refund")
    txn = record(
        emu,
        tx,
        amount=sign * ref["amount"],
        currency=ref["currency"],
        source=ref["id"],
        kind=kind,
        category=kind,
        description="REFUND FOR CHARGE" if not failed else "REFUND FAILURE",
    )
    return str(txn["id"])


def for_dispute(emu: Emulator, tx: Tx, dp: dict[str, Any], *, reinstated: bool) -> dict[str, Any]:
    """A dispute's withdrawal (with the dispute fee) or its reinstatement, as an object."""
    if reinstated:
        return record(
            emu,
            tx,
            amount=dp["amount"],
            currency=dp["currency"],
            source=dp["id"],
            kind="adjustment",
            category="dispute_reversal",
            description=f"Chargeback reversal for {dp['charge']}",
        )
    return record(
        emu,
        tx,
        amount=-dp["amount"],
        currency=dp["currency"],
        source=dp["id"],
        kind="adjustment",
        category="dispute",
        description=f"Chargeback withdrawal for {dp['charge']}",
        fee="dispute",
    )


# GET /v1/balance_transactions takes these (stripe-python v16 BalanceTransactionListParams).
LIST_PARAMS = {
    "created",
    "currency",
    "ending_before",
    "limit",
    "payout",
    "source",
    "starting_after",
    "type",
}


def api_retrieve(emu: Emulator, tx: Tx, params: dict[str, Any], txn_id: str) -> dict[str, Any]:
    """GET /v1/balance_transactions/{id}."""
    return fetch(tx, "balance_transaction", txn_id)


def api_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """GET /v1/balance_transactions: newest first, by source, type, currency, `created`."""
    reject_unknown(params, LIST_PARAMS)
    if params.get("payout"):
        # The emulator makes no payouts, so no transaction was paid out in one.
        raise invalid("payout", f"No such payout: '{params['payout']}'", "resource_missing")
    items = filter_created(tx.list("balance_transaction"), params)
    items = filter_eq(items, params, "source", "type", "currency")
    return paginate(items, params, "/v1/balance_transactions")
