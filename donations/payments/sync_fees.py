"""The step of `stripe sync` that records Stripe's fees: balance transactions we lack.

A charge's and a refund's balance transactions are named by id only in their events (and a
one-time payment's arrives after its charge), so the webhooks can't record them without a
call to the API per event; sync reads them all in one list, with each one's source expanded
(it names the payment), and records the ones we lack, as `fees_recorded`.
"""

from __future__ import annotations

from datetime import datetime

from donations.facts.facts import BalanceTransactionFact
from donations.membership import balance
from donations.money import format_money

# Counted in the sync report: a balance transaction recorded (its fee and net with it).
FEES_RECORDED = "fees_recorded"


def describe(fact: BalanceTransactionFact) -> str:
    """One line for the report: what moved, its fee and net, in the settlement currency."""
    return (
        f"{fact.reporting_category} {fact.source_id or fact.id}: "
        f"{format_money(fact.amount, fact.currency)}, fee {format_money(fact.fee, fact.currency)}"
        f", net {format_money(fact.net, fact.currency)}"
    )


def sync_balance_transaction(fact: BalanceTransactionFact, now: datetime) -> list[tuple[str, str]]:
    """Record a payment's balance transaction (its fee and net) that we lack."""
    if not fact.of_a_payment or balance.is_recorded(fact.id):
        return []
    if not balance.is_our_payment(fact.payment_intent_id):
        return []  # not a payment of this site (another installation's, or not known yet)
    if not balance.record_balance_transaction(fact, now):
        return []
    return [(FEES_RECORDED, describe(fact))]
