"""Money in currencies the site never offered: recorded as Stripe sends it, shown right.

Someone on the account sells a membership in Kuwaiti dinars (three decimals) and takes a gift
in Mexican pesos (two) through Checkout; the site offers neither. Stripe's signed events
arrive at the endpoint, and every staff page shows the money with the currency's decimals.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import stripe
from sqlalchemy import select

from donations.models import Donation, Membership, StripeEvent, User
from stripe_emulator import Emulator

KWD_MEMBERSHIP = 12_340  # KWD 12.340: thousandths, last digit 0 as Stripe requires
MXN_GIFT = 25_050  # MXN 250.50
KWD_SHOWN = "KWD\u00a012.340"
MXN_SHOWN = "MX$250.50"


def _sdk(emulator: Emulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client)


def _pay(emulator: Emulator, mode: str, currency: str, amount: int, **params: Any) -> str:
    """A Checkout Session made on the account (not through our form), paid; its id."""
    price: dict[str, Any] = {
        "currency": currency,
        "unit_amount": amount,
        "product_data": {"name": f"{mode} in {currency}"},
    }
    if mode == "subscription":
        price["recurring"] = {"interval": "month"}
    session = _sdk(emulator).v1.checkout.sessions.create(
        params={
            "mode": mode,
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": "http://localhost/elsewhere?session_id={CHECKOUT_SESSION_ID}",
            **params,
        }
    )
    emulator.pay_checkout(session.id, "4242424242424242")
    return session.id


@pytest.fixture
def statuses(emulator: Emulator) -> list[int]:
    """Every HTTP status the endpoint answered the emulator's deliveries with."""
    seen: list[int] = []
    deliver = emulator.deliverer.transport

    def recording(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        status = deliver(url, body, headers, timeout)
        seen.append(status)
        return status

    emulator.deliverer.transport = recording
    return seen


@pytest.fixture
def foreign_money(db, emulator: Emulator, statuses: list[int]) -> User:
    """A KWD membership, renewed once, and an MXN gift by the same customer; the supporter."""
    session_id = _pay(
        emulator, "subscription", "kwd", KWD_MEMBERSHIP, customer_email="dinar@example.org"
    )
    emulator.deliver_pending()
    session = emulator.get(session_id)
    assert session is not None
    emulator.renew(session["subscription"])
    _pay(emulator, "payment", "mxn", MXN_GIFT, customer=session["customer"])
    emulator.deliver_pending()
    return db.session.scalar(select(User).where(User.stripe_customer_id == session["customer"]))


def test_every_delivery_in_a_foreign_currency_is_taken_and_processed(
    db, foreign_money: User, statuses: list[int]
):
    assert statuses and all(200 <= s < 300 for s in statuses), statuses
    ledger = db.session.scalars(select(StripeEvent.status)).all()
    assert set(ledger) == {"processed"}
    membership = db.session.scalar(select(Membership))
    assert (membership.currency, membership.amount, membership.status) == (
        "kwd",
        KWD_MEMBERSHIP,
        "active",
    )
    paid = db.session.execute(
        select(Donation.kind, Donation.currency, Donation.amount).order_by(Donation.id)
    ).all()
    assert sorted(paid) == [
        ("gift", "mxn", MXN_GIFT),
        ("membership_first", "kwd", KWD_MEMBERSHIP),
        ("membership_renewal", "kwd", KWD_MEMBERSHIP),
    ]
    assert {d.user_id for d in db.session.scalars(select(Donation))} == {foreign_money.id}


def test_the_dashboard_shows_dinars_with_three_decimals_and_pesos_with_two(
    staff_client, foreign_money: User
):
    response = staff_client.get("/staff/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'data-stat="mrr-kwd">{KWD_SHOWN}<' in html
    assert 'data-stat="payments-net-kwd">KWD\u00a024.680<' in html  # first payment + renewal
    assert f'data-stat="gifts-net-mxn">{MXN_SHOWN}<' in html


@pytest.mark.parametrize(
    "query", ["", "currency=kwd", "currency=KWD&status=member&interval=month", "q=dinar"]
)
def test_the_members_list_finds_and_shows_the_dinar_member(staff_client, foreign_money, query):
    response = staff_client.get(f"/staff/members?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "dinar@example.org" in html
    assert f"{KWD_SHOWN}/month" in html


def test_a_currency_nobody_pays_in_filters_to_an_empty_list(staff_client, foreign_money):
    response = staff_client.get("/staff/members?currency=mxn")  # a gift, not a membership
    assert response.status_code == 200
    assert "dinar@example.org" not in response.get_data(as_text=True)


def test_the_member_page_shows_every_payment_in_its_currency(staff_client, foreign_money):
    response = staff_client.get(f"/staff/members/{foreign_money.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"{KWD_SHOWN} / month" in html
    assert html.count(f'data-stat="donation-net">{KWD_SHOWN}<') == 2
    assert f'data-stat="donation-net">{MXN_SHOWN}<' in html


def test_the_event_ledger_and_each_event_answer(db, staff_client, foreign_money):
    assert staff_client.get("/staff/events").status_code == 200
    for event_id in db.session.scalars(select(StripeEvent.stripe_event_id)):
        assert staff_client.get(f"/staff/events/{event_id}").status_code == 200


def test_the_csv_gives_dinars_in_major_units_with_three_decimals(staff_client, foreign_money):
    response = staff_client.get("/staff/members.csv?currency=kwd")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["email"] or r["billing_email"], r["amount"], r["currency"]) for r in rows] == [
        ("dinar@example.org", "12.340", "KWD")
    ]
