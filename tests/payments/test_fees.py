"""Cover-the-fee asks each currency's card fee (STRIPE_FEE_TABLE over Stripe's prices)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from donations import ConfigError, create_app
from donations.currencies import CURRENCIES
from donations.fees import DEFAULT_FEES, Fee, fee_for, parse_fee_table
from tests.conftest import base_config


def _session(emulator, response) -> dict:
    assert response.status_code == 303, response.get_data(as_text=True)[-400:]
    (session,) = emulator.list_objects("checkout.session")
    return session


@pytest.mark.parametrize(
    ("settings", "currency", "charged"),
    [
        # (1000 + 30) / (1 - 0.029) = 1060.76 → 1061
        ({}, "usd", 1061),
        # An EEA card costs 1.5 % + €0.25, not 2.9 %: (1000 + 25) / 0.985 = 1040.6 → 1041
        ({}, "eur", 1041),
        # A UK card 1.5 % + 20p: (1000 + 20) / 0.985 = 1035.5 → 1036
        ({}, "gbp", 1036),
        # An account elsewhere, or custom pricing: the table says so.
        ({"STRIPE_FEE_TABLE": "eur:2.5%+25"}, "eur", 1052),
        ({"STRIPE_FEE_TABLE": "EUR: 1.75 %"}, "eur", 1018),
    ],
)
def test_covering_the_fee_charges_the_currencys_card_fee(make_app, settings, currency, charged):
    app = make_app(**settings)
    client = app.test_client()
    with app.app_context():
        emulator = app.extensions["stripe_emulator"]
        form = {"interval": "once", "currency": currency, "amount": "10", "cover_fee": "1"}
        session = _session(emulator, client.post("/support/checkout", data=form))
    assert session["amount_total"] == charged
    assert session["metadata"]["fee_amount"] == str(charged - 1000)


def test_the_support_page_states_the_rule_and_gives_the_script_the_same_figures(client, db):
    html = client.get("/support?interval=once&currency=eur&amount=10").get_data(as_text=True)
    assert "(1.5% + €0.25, so all of your chosen amount reaches the newsroom)" in unescape(html)
    assert 'data-fee-rate="150" data-fee-fixed="25"' in html
    assert re.search(r"<strong data-fee>€0\.41</strong>", html)


def test_every_offered_currency_has_a_default_fee():
    assert set(CURRENCIES) <= set(DEFAULT_FEES)


def test_the_fee_makes_the_chosen_amount_arrive_after_stripes_cut():
    for fee in DEFAULT_FEES.values():
        for net in (100, 1000, 5000, 99_999):
            gross = net + fee_for(net, fee)
            kept = gross - (gross * fee.rate_bp / 10000 + fee.fixed)
            assert net <= kept < net + 1


def test_a_fee_table_reads_rates_and_fixed_parts():
    assert parse_fee_table("usd:2.9%+30, eur:1.5%+25,jpy:3.6%,") == {
        "usd": Fee(290, 30),
        "eur": Fee(150, 25),
        "jpy": Fee(360, 0),
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("usd:2.9+30", "STRIPE_FEE_TABLE entry 'usd:2.9+30' is not code:rate%+fixed"),
        ("usd 2.9%", "STRIPE_FEE_TABLE entry 'usd 2.9%' is not code:rate%+fixed"),
        ("usd:2.9%+0.30", "STRIPE_FEE_TABLE entry 'usd:2.9%+0.30' is not code:rate%+fixed"),
        ("dollar:2.9%", "STRIPE_FEE_TABLE entry 'dollar:2.9%' is not code:rate%+fixed"),
        ("usd:25%+30", "STRIPE_FEE_TABLE rate for usd must be under 20%, got 25%"),
        ("usd:2.9%+30,USD:3%", "STRIPE_FEE_TABLE lists usd twice"),
    ],
)
def test_a_bad_fee_table_stops_start_up_with_one_line_saying_why(tmp_path, table, message):
    with pytest.raises(ConfigError) as refused:
        create_app({**base_config(tmp_path), "STRIPE_FEE_TABLE": table})
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
