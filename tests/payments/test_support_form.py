"""The supporter form: what it accepts, what it refuses, and how the page comes back."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from donations.models import CheckoutAttempt
from donations.money import MoneyError
from donations.support.services import to_amount
from tests.factories import make_article

ATTEMPT = "attempt-token-0123456789"


def _form(**overrides: str) -> dict[str, str]:
    form = {"interval": "once", "amount": "10", "currency": "usd", "attempt": ATTEMPT}
    form.update(overrides)
    return form


def _alert(html: str) -> str:
    found = re.search(r'role="alert" id="form-error">([^<]*)</p>', html)
    assert found, "no error message on the page"
    return unescape(found.group(1))


def _custom_value(html: str) -> str:
    return unescape(re.search(r'name="custom_amount"[^>]*value="([^"]*)"', html).group(1))


def _hidden(html: str, name: str) -> str:
    return unescape(re.search(rf'type="hidden" name="{name}" value="([^"]*)"', html).group(1))


def _checked_amount(html: str) -> str:
    (value,) = re.findall(r'name="amount" value="([^"]*)" checked', html)
    return value


JUNK_AMOUNTS = [
    ("abc", "Please enter the amount as a number, for example 10 or 7.50."),
    ("-5", "The amount must be more than zero."),
    ("1e999999", "Please enter the amount as a number, for example 10 or 7.50."),
    ("-1e999999", "Please enter the amount as a number, for example 10 or 7.50."),
    ("1e-999999", "Please enter the amount as a number, for example 10 or 7.50."),
    ("1e2", "Please enter the amount as a number, for example 10 or 7.50."),
    ("\uff11\uff10", "Please enter the amount as a number, for example 10 or 7.50."),
    ("7,50", "Please use a point for decimals, for example 7.50."),
    ("1,5", "Please use a point for decimals, for example 7.50."),
    ("10.001", "Amounts in USD take at most 2 decimals."),
    ("99999", "The largest amount we can take is $10,000."),
    ("9" * 400, "Please enter the amount as a number, for example 10 or 7.50."),
    ("sNaN", "Please enter the amount as a number, for example 10 or 7.50."),
]


@pytest.mark.parametrize(("typed", "message"), JUNK_AMOUNTS)
def test_junk_typed_amount_is_a_400_with_its_message_and_keeps_what_was_typed(
    client, db, emulator, typed, message
):
    response = client.post("/support/checkout", data=_form(amount="custom", custom_amount=typed))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _alert(html) == message
    assert _custom_value(html) == typed
    assert _checked_amount(html) == "custom"
    assert emulator.list_objects("checkout.session") == []


@pytest.mark.parametrize(("typed", "message"), JUNK_AMOUNTS)
def test_junk_amount_from_a_link_or_script_is_a_400_shown_as_the_custom_amount(
    client, db, emulator, typed, message
):
    response = client.post("/support/checkout", data=_form(amount=typed))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _alert(html) == message
    assert _custom_value(html) == typed
    assert emulator.list_objects("checkout.session") == []


@pytest.mark.parametrize("field", ["amount", "custom_amount", "cover_fee", "article", "interval"])
def test_a_nul_byte_in_any_field_is_refused_before_checkout(client, db, emulator, field):
    # Nobody types a NUL; the input guard (core.inputs) refuses it before the form is read.
    response = client.post("/support/checkout", data=_form(**{field: "10\x00"}))
    assert response.status_code == 400
    assert "contains a character" in response.get_data(as_text=True)
    assert emulator.list_objects("checkout.session") == []


@pytest.mark.parametrize("fields", [{"amount": ""}, {"amount": "custom", "custom_amount": ""}])
def test_empty_amount_asks_for_one(client, db, emulator, fields):
    response = client.post("/support/checkout", data=_form(**fields))
    assert response.status_code == 400
    assert _alert(response.get_data(as_text=True)) == "Please enter an amount."


def test_missing_fields_are_a_400_not_a_500(client, db, emulator):
    response = client.post("/support/checkout", data={})
    assert response.status_code == 400
    assert _alert(response.get_data(as_text=True)) == "Please choose once, monthly or yearly."


def test_only_the_first_problem_in_field_order_is_shown(client, db, emulator):
    response = client.post(
        "/support/checkout", data=_form(interval="week", currency="xyz", amount="abc")
    )
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert _alert(html) == "Please choose once, monthly or yearly."
    assert "Please choose one of" not in html and "as a number" not in html


def test_amount_is_not_judged_in_a_currency_we_do_not_offer(client, db, emulator):
    response = client.post("/support/checkout", data=_form(currency="jpy", amount="abc"))
    assert _alert(response.get_data(as_text=True)) == "Please choose one of: USD, EUR, GBP."


def test_padded_interval_and_currency_are_read_the_same_on_the_page_as_at_checkout(
    client, db, emulator
):
    response = client.post(
        "/support/checkout", data=_form(interval=" once ", currency=" EUR ", amount="abc")
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (_hidden(html, "interval"), _hidden(html, "currency")) == ("once", "eur")


@pytest.mark.parametrize(
    ("value", "covered"),
    [(yes, True) for yes in ("1", "on", "yes", "true", "TRUE")]
    + [(no, False) for no in ("0", "no", "false", "", "maybe")],
)
def test_fee_is_covered_only_for_a_yes(client, db, emulator, value, covered):
    response = client.post("/support/checkout", data=_form(cover_fee=value))
    assert response.status_code == 303
    attempt = db.session.scalar(select(CheckoutAttempt))
    assert attempt.fee_amount == (61 if covered else 0)


@pytest.mark.parametrize("article", ["Bad Slug", "a" * 121, "flood walls", "<b>"])
def test_an_article_that_is_not_a_slug_is_dropped_not_stored(client, db, emulator, article):
    response = client.post("/support/checkout", data=_form(article=article))
    assert response.status_code == 303
    assert db.session.scalar(select(CheckoutAttempt)).source_article is None


def test_a_padded_article_slug_is_kept(client, db, emulator):
    make_article(slug="flood-walls")
    client.post("/support/checkout", data=_form(article=" flood-walls "))
    assert db.session.scalar(select(CheckoutAttempt)).source_article == "flood-walls"


@pytest.mark.parametrize(
    "query",
    [
        {"amount": "1e999999"},
        {"amount": "custom", "custom_amount": "1e999999"},
        {"amount": "1e999999", "cover_fee": "1", "interval": "once"},
        {"amount": "-1e999999"},
        {"amount": "sNaN"},
        {"amount": "9" * 400},
        {"interval": "week", "currency": "xyz"},
        {"currency": "jpy"},
        {"interval": ["once", "month"], "amount": ["abc", "10"]},
    ],
)
def test_a_support_link_with_a_bad_choice_shows_the_form_with_its_message_and_a_400(
    client, db, query
):
    response = client.get("/support", query_string=query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'action="/support/checkout"' in html and 'role="alert"' in html


@pytest.mark.parametrize("query", [{"article": "x" * 500}, {"attempt": "<script>"}, {}])
def test_a_support_link_with_only_harmless_junk_shows_the_form(client, db, query):
    response = client.get("/support", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="/support/checkout"' in html and 'role="alert"' not in html


@pytest.mark.parametrize(
    "query", [{"amount": "\x00"}, {"interval": "\x00", "currency": "\x00", "cover_fee": "\x00"}]
)
def test_a_support_link_with_a_nul_byte_is_refused(client, db, query):
    response = client.get("/support", query_string=query)
    assert response.status_code == 400
    assert "contains a character" in response.get_data(as_text=True)


def test_support_page_preselects_interval_currency_and_preset_from_the_query(client, db):
    html = client.get("/support?interval=year&currency=EUR&amount=150&cover_fee=on").get_data(
        as_text=True
    )
    assert (_hidden(html, "interval"), _hidden(html, "currency")) == ("year", "eur")
    assert _checked_amount(html) == "150"
    assert "checked" in html.split('name="cover_fee"')[1][:40]


def test_support_page_shows_a_non_preset_amount_as_the_custom_amount(client, db):
    html = client.get("/support?interval=once&amount=12.34").get_data(as_text=True)
    assert _checked_amount(html) == "custom"
    assert _custom_value(html) == "12.34"
    assert "Give $12.34 once" in html


def test_support_page_falls_back_for_junk_interval_and_currency(client, db):
    html = client.get("/support?interval=week&currency=xyz").get_data(as_text=True)
    assert (_hidden(html, "interval"), _hidden(html, "currency")) == ("month", "usd")
    assert _checked_amount(html) == "8"


@pytest.mark.parametrize(
    ("typed", "code", "minor"),
    [
        ("10", "usd", 1000),
        ("7.50", "eur", 750),
        (" 8 ", "gbp", 800),
        ("1500", "jpy", 1500),
        ("1,000", "usd", 100000),
        ("1,500,000", "jpy", 1500000),
        ("2.5", "eur", 250),
    ],
)
def test_to_amount_converts_major_units_with_the_currency_exponent(typed, code, minor):
    assert to_amount(typed, code) == minor


@pytest.mark.parametrize(
    ("typed", "code", "message"),
    [
        ("10001", "usd", "The largest amount we can take is $10,000."),
        ("1,500,001", "jpy", "The largest amount we can take is ¥1,500,000."),
        ("1e999999", "usd", "Please enter the amount as a number, for example 10 or 7.50."),
        ("7,50", "eur", "Please use a point for decimals, for example 7.50."),
        ("99", "jpy", "The smallest amount we can take is ¥100."),
        ("1500.5", "jpy", "Amounts in JPY take whole amounts."),
    ],
)
def test_to_amount_refuses_with_a_readable_message(typed, code, message):
    with pytest.raises(MoneyError, match=re.escape(message)):
        to_amount(typed, code)


# --- CSRF (on in production; off in most tests) ---------------------------------------------


def test_support_form_carries_the_csrf_token_and_checkout_needs_it(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    html = client.get("/support?interval=once").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post("/support/checkout", data=_form()).status_code == 400
    assert client.post("/support/checkout", data=_form(csrf_token="wrong")).status_code == 400
    assert client.post("/support/checkout", data=_form(csrf_token=token)).status_code == 303


def test_an_invalid_choice_comes_back_with_a_fresh_csrf_token_that_works(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    html = client.get("/support?interval=once").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    again = client.post("/support/checkout", data=_form(amount="abc", csrf_token=token))
    assert again.status_code == 400
    html = again.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post("/support/checkout", data=_form(csrf_token=token)).status_code == 303


def test_a_refused_choice_leaves_an_address_that_shows_the_message_again(client, db):
    refused = client.post(
        "/support/checkout",
        data={"interval": "once", "currency": "usd", "amount": "custom", "custom_amount": "1.234"},
    )
    assert refused.status_code == 400
    retry = re.search(r'data-replace-url="([^"]+)"', refused.get_data(as_text=True)).group(1)
    again = client.get(unescape(retry))
    assert again.status_code == 400
    assert "1.234" in again.get_data(as_text=True) and 'id="form-error"' in again.get_data(True)
    assert 'id="form-error"' not in client.get("/support?interval=once").get_data(as_text=True)


def test_the_box_on_a_shared_page_posts_without_a_token_but_only_from_this_site(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    make_article(slug="box-page")
    page = client.get("/articles/box-page")
    assert 'name="csrf_token"' not in page.get_data(as_text=True).split('class="support-box"')[1]
    assert "Set-Cookie" not in page.headers  # the page stays shareable
    box = {"interval": "month", "currency": "usd", "preset_month": "8"}
    site = app.config["SITE_URL"]
    assert client.post("/support/checkout", data=box, headers={"Origin": site}).status_code == 303
    referred = client.post("/support/checkout", data=box, headers={"Referer": site + "/"})
    assert referred.status_code == 303
    evil = client.post("/support/checkout", data=box, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 400
    assert client.post("/support/checkout", data=box).status_code == 400  # no origin at all


@pytest.mark.parametrize(
    ("site", "origin", "status"),
    [
        ("http://127.0.0.1:5123", "http://localhost:5123", 303),  # the machine's other name
        ("http://localhost:5123", "http://[::1]:5123", 303),
        ("http://127.0.0.1:5123", "http://localhost:5124", 400),  # another port: another site
        ("http://127.0.0.1:5123", "https://localhost:5123", 400),
        ("https://news.example", "https://localhost", 400),  # a real site has one name
        ("http://127.0.0.1:5123", "http://localhost:port", 400),
    ],
)
def test_on_this_machine_localhost_and_127_0_0_1_are_the_same_site(
    make_app, db, site, origin, status
):
    app = make_app(WTF_CSRF_ENABLED=True, SITE_URL=site)
    box = {"interval": "month", "currency": "usd", "preset_month": "8"}
    answer = app.test_client().post("/support/checkout", data=box, headers={"Origin": origin})
    assert answer.status_code == status
