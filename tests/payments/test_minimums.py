"""Our smallest amounts are ones Stripe takes, whatever currency the account settles in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from donations import ConfigError, create_app
from donations.currencies import CURRENCIES, STRIPE_MINIMUMS, limits, to_minor
from donations.money import MoneyError, format_money, major
from donations.support.options import INTERVALS, presets
from stripe_emulator import Emulator
from stripe_emulator.money import minimum as stripe_minimum
from tests.conftest import base_config

SETTLEMENTS = sorted(STRIPE_MINIMUMS)


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Emulator]:
    """A Stripe account (the emulator) with nowhere to deliver: only its API is used here."""
    emulator = Emulator(tmp_path / "stripe.sqlite3", site_url="http://localhost", background=False)
    yield emulator
    emulator.close()


def _charge(emulator: Emulator, currency: str, amount: int) -> Any:
    sdk = stripe.StripeClient("sk_test_emulator", http_client=emulator.http_client)
    price = {"currency": currency, "unit_amount": amount, "product_data": {"name": "Gift"}}
    return sdk.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price_data": price, "quantity": 1}],
            "success_url": "http://localhost/support/thanks?session_id={CHECKOUT_SESSION_ID}",
        }
    )


@pytest.mark.parametrize("settlement", SETTLEMENTS)
def test_stripe_takes_our_smallest_amount_and_refuses_one_unit_under_its_own(
    account: Emulator, settlement: str
):
    account.settlement_currency = settlement
    for code in CURRENCIES:
        ours = limits(code, settlement).minimum
        assert _charge(account, code, ours).amount_total == ours
        theirs = stripe_minimum(code, settlement)
        assert _charge(account, code, theirs).amount_total == theirs
        with pytest.raises(stripe.InvalidRequestError) as refused:
            _charge(account, code, theirs - 1)
        assert (refused.value.code, refused.value.param) == (
            "amount_too_small",
            "line_items[0][price_data][unit_amount]",
        )


@pytest.mark.parametrize(("code", "typed"), [("sek", "5"), ("pln", "2"), ("uah", "20")])
def test_the_old_minimums_are_refused_on_an_account_settling_in_euros(account, code, typed):
    # SEK 5, PLN 2 and UAH 20 were our minimums: each is under €0.50.
    account.settlement_currency = "eur"
    with pytest.raises(stripe.InvalidRequestError, match="at least"):
        _charge(account, code, int(typed) * 100)
    with pytest.raises(MoneyError, match="The smallest amount we can take is"):
        to_minor(typed, code, "eur")


@pytest.mark.parametrize("settlement", SETTLEMENTS)
def test_every_preset_is_within_our_limits(settlement):
    for code in CURRENCIES:
        bounds = limits(code, settlement)
        for interval in INTERVALS:
            for preset in presets(interval, code):
                assert bounds.minimum <= preset.minor <= bounds.maximum, (code, preset)


@pytest.mark.parametrize("settlement", ["usd", "eur", "gbp"])
def test_the_support_form_takes_the_smallest_amount_and_refuses_one_unit_less(make_app, settlement):
    app = make_app(DONATION_CURRENCIES=",".join(CURRENCIES), STRIPE_SETTLEMENT_CURRENCY=settlement)
    client = app.test_client()
    with app.app_context():
        for code in CURRENCIES:
            least = limits(code, settlement).minimum
            form = {"interval": "once", "currency": code, "amount": major(least, code)}
            taken = client.post("/support/checkout", data=form)
            assert taken.status_code == 303, (code, taken.get_data(as_text=True)[-400:])
            form["amount"] = major(least - 1, code)
            refused = client.post("/support/checkout", data=form)
            assert refused.status_code == 400
            assert "The smallest amount we can take is" in refused.get_data(as_text=True)


@pytest.mark.parametrize("value", ["xyz", "uah", "usd,eur"])
def test_a_settlement_currency_stripe_does_not_pay_out_in_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match=r"^STRIPE_SETTLEMENT_CURRENCY must be one of"):
        create_app({**base_config(tmp_path), "STRIPE_SETTLEMENT_CURRENCY": value})


def test_the_emulator_settles_in_the_apps_settlement_currency(make_app):
    app = make_app(STRIPE_SETTLEMENT_CURRENCY="GBP")
    assert app.config["STRIPE_SETTLEMENT_CURRENCY"] == "gbp"
    assert app.extensions["stripe_emulator"].settlement_currency == "gbp"


def test_the_readme_table_of_smallest_amounts_is_what_the_code_takes():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("<!-- minimums -->")[1].split("<!-- /minimums -->")[0]
    header, _, *rows = [line.strip("|").split("|") for line in block.strip().splitlines()]
    codes = [cell.strip() for cell in header[1:]]
    assert codes == list(CURRENCIES)
    assert [row[0].strip() for row in rows] == ["usd", "eur", "gbp"]
    for settlement, *cells in rows:
        for code, cell in zip(codes, cells, strict=True):
            shown = format_money(limits(code, settlement.strip()).minimum, code)
            assert cell.strip() == shown.replace("\u00a0", " "), (settlement, code)
