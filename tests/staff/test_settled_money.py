"""Money to the cent, net of Stripe: the dashboard's fees and net are Stripe's balance
transactions, in a mixed history driven through the emulator and real signed webhooks."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from sqlalchemy import func, select

from donations.facts.metadata import CheckoutMetadata
from donations.membership.demo import seed_members
from donations.membership.donations import record_gift
from donations.models import BalanceTransaction, Donation, PaymentAdjustment, utcnow
from donations.money import format_money
from tests.factories import login, pay_membership, start_checkout

CATEGORIES = {
    "charge": "gross",
    "refund": "refunds",
    "refund_failure": "refunds",
    "dispute": "disputes",
    "dispute_reversal": "disputes",
}


def stat(html: str, name: str) -> str:
    """The text of the element marked data-stat=name."""
    found = re.search(rf'data-stat="{re.escape(name)}">([^<]*)<', html)
    assert found, f"no data-stat={name}"
    return found.group(1).strip()


def emulator_totals(emulator) -> dict[str, dict[str, int]]:
    """Per settlement currency: gross, refunds, disputes, fees and net of every balance
    transaction the emulator holds (the truth the dashboard must show)."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for txn in emulator.list_objects("balance_transaction"):
        row = totals[txn["currency"]]
        row[CATEGORIES[txn["reporting_category"]]] += txn["amount"]
        row["fees"] += txn["fee"]
        row["net"] += txn["net"]
        row["payments"] += txn["reporting_category"] == "charge"
    return {code: dict(row) for code, row in totals.items()}


def _gift(client, emulator, amount: str, currency: str, attempt: str) -> str:
    """A one-time gift paid through Checkout; its charge id."""
    session = start_checkout(client, amount=amount, currency=currency, attempt=attempt)
    emulator.pay_checkout(session, "4242424242424242", email=f"{attempt}@example.org")
    return emulator.list_objects("charge")[0]["id"]


def _mixed_history(client, emulator) -> None:
    """Gifts in two currencies, a membership renewed twice, a partial refund, a lost dispute."""
    refunded = _gift(client, emulator, "25", "usd", "attempt-token-refunded-gift")
    disputed = _gift(client, emulator, "40", "usd", "attempt-token-disputed-gift")
    _gift(client, emulator, "30", "eur", "attempt-token-euro-gift")
    # Pay first (no account yet): the member is the Stripe customer.
    pay_membership(client, emulator, attempt="attempt-token-member", email="member@example.org")
    [sub] = emulator.list_objects("subscription")
    emulator.renew(sub["id"])
    emulator.renew(sub["id"])
    emulator.refund(refunded, 1037)
    emulator.dispute(disputed, close_as="lost")
    emulator.deliver_pending()


# On a shared account (STRIPE_ACCOUNT_SHARED=1) the fees of our own payments count all the same:
# sync lists balance transactions untagged, and each follows the payment it moved money for.
@pytest.mark.parametrize("shared", [False, True], ids=["dedicated", "shared"])
def test_dashboard_fees_and_net_equal_stripes_balance_transactions(
    app, client, runner, db, emulator, staff, shared
):
    app.config["STRIPE_ACCOUNT_SHARED"] = shared
    _mixed_history(client, emulator)
    truth = emulator_totals(emulator)
    assert list(truth) == ["usd"]  # the account settles in USD; the euro gift converted
    usd = truth["usd"]
    assert usd["payments"] == 6 and usd["refunds"] == -1037 and usd["disputes"] == -4000

    # The webhooks alone carry the dispute's withdrawal with its fee; the payments' fees
    # are named by id only, and the dashboard says they are still to come.
    login(client, staff)
    page = client.get("/staff/").get_data(as_text=True)
    assert stat(page, "settled-fees-usd") == format_money(1500, "usd")
    assert "6 payments of the last 30 days have no fee recorded yet" in page

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "fees_recorded 7" in result.output  # six charges and the refund

    page = client.get("/staff/").get_data(as_text=True)
    for column in ("payments", "gross", "refunds", "disputes", "fees", "net"):
        shown = stat(page, f"settled-{column}-usd")
        want = str(usd[column]) if column == "payments" else format_money(usd[column], "usd")
        assert shown == want, column
    assert usd["gross"] + usd["refunds"] + usd["disputes"] - usd["fees"] == usd["net"]
    assert "Every payment of the last 30 days has its fee recorded." in page
    # What we stored is the emulator's, one row per balance transaction, to the cent.
    stored = db.session.execute(
        select(func.count(), func.sum(BalanceTransaction.fee), func.sum(BalanceTransaction.net))
    ).one()
    assert tuple(stored) == (8, usd["fees"], usd["net"])
    print(f"\nsettled usd: {usd}")  # the report quotes these figures

    again = runner.invoke(args=["stripe", "sync"])
    assert "changed: nothing." in again.output


@pytest.mark.parametrize("shared", [False, True], ids=["dedicated", "shared"])
def test_sync_repairs_a_lost_dispute_with_its_fee_and_a_partial_refund_to_the_cent(
    app, client, runner, db, emulator, staff, shared
):
    app.config["STRIPE_ACCOUNT_SHARED"] = shared
    refunded = _gift(client, emulator, "25", "usd", "attempt-token-refunded-gift")
    disputed = _gift(client, emulator, "40", "usd", "attempt-token-disputed-gift")
    emulator.deliver_pending()
    emulator.set_drop_deliveries(True)
    refund = emulator.refund(refunded, 1037)
    dispute = emulator.dispute(disputed, close_as="lost")
    emulator.deliver_pending()
    assert db.session.scalar(select(func.count()).select_from(BalanceTransaction)) == 0

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "refunds_updated 1" in result.output and "disputes_recorded 1" in result.output
    # The two charges, the refund, and the dispute's withdrawal with its fee.
    assert "fees_recorded 4" in result.output
    db.session.expire_all()
    nets = sorted((d.amount, d.net_amount) for d in db.session.scalars(select(Donation)))
    assert nets == [(2500, 1463), (4000, 0)]
    assert (
        db.session.scalar(
            select(PaymentAdjustment.dispute_status).where(PaymentAdjustment.disputed.is_(True))
        )
        == "lost"
    )
    rows = {
        t.source_id: (t.reporting_category, t.amount, t.fee, t.net, t.stripe_payment_intent_id)
        for t in db.session.scalars(select(BalanceTransaction))
    }
    disputed_intent = emulator.get(disputed)["payment_intent"]
    assert rows[dispute["id"]] == ("dispute", -4000, 1500, -5500, disputed_intent)
    assert rows[refund["id"]] == ("refund", -1037, 0, -1037, refund["payment_intent"])
    assert rows[refunded][1:4] == (2500, 103, 2397)  # 2.9% of $25 is 72.5c -> 73c, + 30c

    usd = emulator_totals(emulator)["usd"]
    login(client, staff)
    page = client.get("/staff/").get_data(as_text=True)
    assert stat(page, "settled-net-usd") == format_money(usd["net"], "usd") == "-$2.86"
    assert stat(page, "settled-fees-usd") == format_money(usd["fees"], "usd") == "$17.49"
    assert runner.invoke(args=["stripe", "sync"]).output.count("changed: nothing.") == 1


def test_demo_payments_never_wait_for_a_fee_that_stripe_sync_could_bring(client, db, staff):
    # seed-demo's members paid nothing on Stripe: no charge, no balance transaction, ever.
    seed_members(3)
    record_gift(
        "pi_real_gift",
        amount=1000,
        currency="usd",
        paid_at=utcnow(),
        metadata=CheckoutMetadata(interval="once"),
        email=None,
        customer_id=None,
        user_id=None,
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Donation)) == 4
    login(client, staff)
    page = client.get("/staff/").get_data(as_text=True)
    assert stat(page, "awaiting-fee").startswith(
        "1 payment of the last 30 days has no fee recorded yet"
    )
