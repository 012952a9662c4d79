"""Money in any currency: Stripe's minor units for every code, and display that never fails."""

from __future__ import annotations

import pytest
from babel.numbers import get_currency_precision, list_currencies

from donations.money import exponent, format_money, is_currency, major, parse_major, plain


@pytest.mark.parametrize(
    ("minor", "code", "shown"),
    [
        (800, "usd", "$8"),
        (750, "eur", "€7.50"),
        (-805, "gbp", "-£8.05"),
        (150_000, "jpy", "¥150,000"),
        (12_340, "kwd", "KWD\u00a012.340"),
        (12_000, "KWD", "KWD\u00a012"),
        (25_050, "mxn", "MX$250.50"),
        (123_456_789, "chf", "CHF\u00a01,234,567.89"),
        (500, "isk", "ISK\u00a05"),  # Stripe: two decimals, whole krónur
        (150_050, "huf", "HUF\u00a01,500.50"),
        (1_000, "ugx", "UGX\u00a01,000"),  # zero-decimal at Stripe
        (1_999, "xyz", "XYZ\u00a019.99"),  # not a currency at all: still shown
    ],
)
def test_any_currency_is_shown_with_its_own_decimals(minor, code, shown):
    assert format_money(minor, code) == shown


@pytest.mark.parametrize("code", ["", "e", "euro", "12$", None])
def test_something_that_is_no_code_is_shown_as_it_is_instead_of_failing(code):
    assert format_money(1234, code).startswith("1234")


def test_every_code_babel_knows_formats_without_an_error():
    for code in list_currencies():
        assert format_money(123_456, code.lower())


def test_stripes_minor_units_differ_from_cldrs_where_stripe_says_so():
    # Babel's precision is CLDR's: reading Stripe's amounts with it would be 100x off here.
    for code in ("isk", "huf", "idr", "cop", "all"):
        assert get_currency_precision(code.upper()) == 0
        assert exponent(code) == 2
    # … and agrees with Stripe's zero- and three-decimal lists where both have the code.
    for code in ("jpy", "krw", "clp", "vnd", "xof"):
        assert exponent(code) == get_currency_precision(code.upper()) == 0
    for code in ("bhd", "jod", "kwd", "omr", "tnd"):
        assert exponent(code) == get_currency_precision(code.upper()) == 3


@pytest.mark.parametrize(
    ("minor", "code", "form", "spreadsheet"),
    [
        (800, "usd", "8", "8.00"),
        (750, "eur", "7.50", "7.50"),
        (1500, "jpy", "1500", "1500"),
        (12_340, "kwd", "12.340", "12.340"),
        (12_000, "kwd", "12", "12.000"),
    ],
)
def test_major_units_for_forms_and_for_spreadsheets(minor, code, form, spreadsheet):
    assert (major(minor, code), plain(minor, code)) == (form, spreadsheet)


@pytest.mark.parametrize(
    ("typed", "code", "minor"),
    [("12.345", "kwd", 12_345), ("12", "kwd", 12_000), ("1,500", "jpy", 1500), ("0.5", "usd", 50)],
)
def test_a_typed_amount_uses_the_currencys_decimals(typed, code, minor):
    assert parse_major(typed, code) == minor


def test_the_staff_filter_knows_iso_codes_only():
    assert is_currency("KWD") and is_currency("mxn") and is_currency("uah")
    assert not is_currency("zzz") and not is_currency("") and not is_currency("usdollar")
