"""Balance transactions: each charge, refund and dispute settles in the account's currency,
net of Stripe's card price or dispute fee, and can be retrieved and listed as Stripe's can."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import stripe

from stripe_emulator import Emulator, EmulatorHTTPClient

from .conftest import API_VERSION, Inbox
from .sequences import delivered, only

# Keys of a BalanceTransaction in the pinned API (stripe-python v16 _balance_transaction.py).
BALANCE_TRANSACTION_KEYS = {
    "id",
    "object",
    "amount",
    "available_on",
    "balance_type",
    "created",
    "currency",
    "description",
    "exchange_rate",
    "fee",
    "fee_details",
    "net",
    "reporting_category",
    "source",
    "status",
    "type",
}


@pytest.fixture
def charge(emu_member: stripe.Subscription, emu_client: stripe.StripeClient) -> stripe.Charge:
    """The paid $8.00 charge of a membership."""
    return emu_client.v1.charges.list(params={"customer": emu_member.customer}).data[0]


def test_a_usd_charge_pays_the_us_card_price(
    charge: stripe.Charge, emu_client: stripe.StripeClient
) -> None:
    txn = emu_client.v1.balance_transactions.retrieve(charge.balance_transaction)
    assert set(txn.to_dict()) == BALANCE_TRANSACTION_KEYS
    # 2.9% of $8.00 is 23.2¢, rounded to 23¢, plus 30¢.
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (800, 53, 747, "usd")
    assert (txn.type, txn.reporting_category, txn.source) == ("charge", "charge", charge.id)
    assert txn.exchange_rate is None
    assert [(d.type, d.amount) for d in txn.fee_details] == [("stripe_fee", 53)]
    expanded = emu_client.v1.charges.retrieve(charge.id, params={"expand": ["balance_transaction"]})
    assert expanded.balance_transaction.id == txn.id


def test_a_payment_in_another_currency_settles_converted_with_the_conversion_surcharge(
    emu_factory: Callable[..., Emulator],
    tmp_path: Path,
) -> None:
    emu = emu_factory(settlement_currency="eur", path=tmp_path / "eur-account.sqlite3")
    client = stripe.StripeClient(
        "sk_test_emulator", http_client=EmulatorHTTPClient(emu), stripe_version=API_VERSION
    )
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 800,
                        "product_data": {"name": "Gift"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "http://shop.test/thanks",
        }
    )
    emu.pay_checkout(session.id, "4242424242424242", email="giver@example.com")
    charge = client.v1.charges.list().data[0]
    txn = client.v1.balance_transactions.retrieve(charge.balance_transaction)
    # $8.00 at 0.86 €/$ is €6.88; EEA price 1.5% plus 2% conversion = 24.08¢ -> 24¢, + 25¢.
    assert (txn.amount, txn.currency, txn.exchange_rate) == (688, "eur", 0.86)
    assert (txn.fee, txn.net) == (49, 639)


def test_refunds_and_their_failures_move_the_balance_without_a_fee(
    emu: Emulator, charge: stripe.Charge, emu_client: stripe.StripeClient
) -> None:
    refund = emu.refund(charge.id, 300)
    txn = emu_client.v1.balance_transactions.retrieve(refund["balance_transaction"])
    assert (txn.type, txn.amount, txn.fee, txn.net, txn.source) == (
        "refund",
        -300,
        0,
        -300,
        refund["id"],
    )
    failed = emu.fail_refund(refund["id"])
    back = emu_client.v1.balance_transactions.retrieve(failed["failure_balance_transaction"])
    assert (back.type, back.amount, back.net) == ("refund_failure", 300, 300)


def test_a_dispute_withdrawal_carries_the_dispute_fee_and_a_win_returns_only_the_amount(
    emu: Emulator, charge: stripe.Charge, emu_client: stripe.StripeClient, emu_inbox: Inbox
) -> None:
    dispute = emu.dispute(charge.id)
    withdrawn = only(delivered(emu, emu_inbox), "charge.dispute.funds_withdrawn").data.object
    [txn] = withdrawn.balance_transactions
    assert set(txn.to_dict()) == BALANCE_TRANSACTION_KEYS
    assert (txn.type, txn.reporting_category) == ("adjustment", "dispute")
    assert txn.source == dispute["id"]
    assert (txn.amount, txn.fee, txn.net) == (-800, 1500, -2300)
    assert [(d.description, d.amount) for d in txn.fee_details] == [("Dispute fee", 1500)]
    assert emu_client.v1.balance_transactions.retrieve(txn.id).net == -2300
    emu.dispute(charge.id, close_as="won")
    reinstated = only(delivered(emu, emu_inbox), "charge.dispute.funds_reinstated").data.object
    back = reinstated.balance_transactions[1]
    assert (back.reporting_category, back.amount, back.fee, back.net) == (
        "dispute_reversal",
        800,
        0,
        800,
    )


def test_balance_transactions_list_by_source_and_type_with_the_source_expanded(
    emu: Emulator, charge: stripe.Charge, emu_client: stripe.StripeClient
) -> None:
    emu.refund(charge.id, 100)
    every = emu_client.v1.balance_transactions.list(params={"expand": ["data.source"]}).data
    assert [t.type for t in every] == ["refund", "charge"]
    assert every[1].source.id == charge.id and every[1].source.object == "charge"
    assert every[0].source.payment_intent == charge.payment_intent
    by_source = emu_client.v1.balance_transactions.list(params={"source": charge.id}).data
    assert [t.id for t in by_source] == [charge.balance_transaction]
    assert emu_client.v1.balance_transactions.list(params={"type": "payout"}).data == []
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter"):
        emu_client.v1.balance_transactions.list(params={"charge": charge.id})
    with pytest.raises(stripe.InvalidRequestError, match="No such"):
        emu_client.v1.balance_transactions.retrieve("txn_missing")
