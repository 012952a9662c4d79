"""POST /support/checkout through the real SDK against the emulator."""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from donations.models import CheckoutAttempt, Membership
from tests.factories import login, make_article, make_membership, make_user

ATTEMPT = "attempt-token-0123456789"


def _form(**overrides: str) -> dict[str, str]:
    form = {"interval": "once", "amount": "10", "currency": "usd", "attempt": ATTEMPT}
    form.update(overrides)
    return form


def _session_id(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    path = urlsplit(response.headers["Location"]).path
    assert path.startswith("/_emulator/checkout/cs_test_")
    return path.rsplit("/", 1)[1]


def test_one_time_gift_needs_no_account_and_goes_to_checkout(client, db, emulator):
    response = client.post("/support/checkout", data=_form(amount="7.50", currency="eur"))
    session = emulator.get(_session_id(response))
    assert session["mode"] == "payment"
    assert session["amount_total"] == 750
    assert session["currency"] == "eur"
    assert session["client_reference_id"] is None
    attempt = db.session.scalar(select(CheckoutAttempt))
    assert (attempt.interval, attempt.amount, attempt.fee_amount, attempt.status) == (
        "once",
        750,
        0,
        "open",
    )


def test_membership_checkout_reuses_one_customer_per_supporter(client, db, emulator):
    user = make_user(email="member@example.org", name="Mara Member")
    login(client, user)
    first = emulator.get(
        _session_id(client.post("/support/checkout", data=_form(interval="month", amount="8")))
    )
    db.session.refresh(user)
    customer = user.stripe_customer_id
    assert customer and customer.startswith("cus_")
    assert emulator.get(customer)["email"] == "member@example.org"
    assert first["mode"] == "subscription" and first["customer"] == customer
    assert first["client_reference_id"] == str(user.id)
    gift = emulator.get(
        _session_id(
            client.post("/support/checkout", data=_form(attempt="another-attempt-token-01"))
        )
    )
    assert gift["customer"] == customer
    assert len(emulator.list_objects("customer")) == 1


def test_double_submit_creates_one_checkout_session(client, db, emulator):
    first = client.post("/support/checkout", data=_form())
    second = client.post("/support/checkout", data=_form())
    assert _session_id(first) == _session_id(second)
    assert len(emulator.list_objects("checkout.session")) == 1
    assert db.session.scalar(select(func.count()).select_from(CheckoutAttempt)) == 1


def test_a_new_form_rendering_is_a_new_checkout(client, db, emulator):
    first = _session_id(client.post("/support/checkout", data=_form()))
    second = _session_id(
        client.post("/support/checkout", data=_form(attempt="fresh-attempt-9876543"))
    )
    assert first != second


def test_cover_fee_charges_the_fee_and_stores_it_apart(client, db, emulator):
    response = client.post("/support/checkout", data=_form(amount="10", cover_fee="1"))
    session = emulator.get(_session_id(response))
    # (1000 + 30) / (1 - 0.029) = 1060.76 → 1061, so the fee part is 61 cents.
    assert session["amount_total"] == 1061
    assert session["metadata"]["fee_amount"] == "61"
    attempt = db.session.scalar(select(CheckoutAttempt))
    assert (attempt.amount, attempt.fee_amount) == (1061, 61)


def test_zero_decimal_currency_is_sent_in_whole_units(make_app, db):
    app = make_app(DONATION_CURRENCIES="usd,jpy")
    client = app.test_client()
    response = client.post("/support/checkout", data=_form(currency="jpy", amount="1500"))
    from stripe_emulator import get_emulator

    session = get_emulator(app).get(_session_id(response))
    assert (session["amount_total"], session["currency"]) == (1500, "jpy")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "ten"}, "as a number"),
        ({"amount": "-5"}, "more than zero"),
        ({"amount": "0"}, "more than zero"),
        ({"amount": "0.50"}, "smallest amount we can take is $1"),
        ({"amount": "10001"}, "largest amount we can take is $10,000"),
        ({"amount": "5.555"}, "at most 2 decimals"),
        ({"amount": ""}, "Please enter an amount"),
        ({"amount": "custom", "custom_amount": "abc"}, "as a number"),
        ({"amount": "NaN"}, "as a number"),
        ({"amount": "Infinity"}, "as a number"),
        ({"currency": "xyz"}, "Please choose one of: USD, EUR, GBP"),
        ({"interval": "week"}, "Please choose once, monthly or yearly"),
    ],
)
def test_invalid_choice_shows_the_form_again_with_the_message(
    client, db, emulator, fields, message
):
    response = client.post("/support/checkout", data=_form(**fields))
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert message in html
    assert 'role="alert"' in html and 'action="/support/checkout"' in html
    assert emulator.list_objects("checkout.session") == []


def test_zero_decimal_amounts_refuse_decimals(make_app, db):
    app = make_app(DONATION_CURRENCIES="jpy")
    response = app.test_client().post(
        "/support/checkout", data=_form(currency="jpy", amount="1500.5")
    )
    assert response.status_code == 400
    assert "Amounts in JPY take whole amounts" in response.get_data(as_text=True)


def test_invalid_custom_amount_keeps_what_was_typed(client, db, emulator):
    response = client.post("/support/checkout", data=_form(amount="custom", custom_amount="12.345"))
    assert 'value="12.345"' in response.get_data(as_text=True)


@pytest.mark.parametrize("interval", ["month", "year"])
def test_anonymous_membership_goes_straight_to_checkout(client, db, emulator, interval):
    make_article(slug="flood-walls")
    response = client.post(
        "/support/checkout",
        data=_form(interval=interval, amount="9", cover_fee="1", article="flood-walls"),
    )
    session = emulator.get(_session_id(response))
    assert session["mode"] == "subscription"
    # Checkout collects the email and makes the customer; the account comes after paying.
    assert session["customer"] is None and session["client_reference_id"] is None
    assert session["amount_total"] == 900 + 58  # (900 + 30) / 0.971 = 957.8 -> 58 cents fee
    attempt = db.session.scalar(select(CheckoutAttempt))
    assert (attempt.interval, attempt.user_id, attempt.source_article) == (
        interval,
        None,
        "flood-walls",
    )


def test_a_drafts_slug_is_not_taken_as_the_story_the_reader_came_from(client, db, emulator):
    make_article(slug="winter-reserve", published=False)
    response = client.post("/support/checkout", data=_form(article="winter-reserve"))
    session = emulator.get(_session_id(response))
    assert "winter-reserve" not in str(session["metadata"]) + session["cancel_url"]
    assert db.session.scalar(select(CheckoutAttempt.source_article)) is None


def test_second_membership_is_refused_and_sent_to_the_account(client, db, emulator):
    user = make_user()
    make_membership(user, stripe_subscription_id="sub_existing")
    login(client, user)
    response = client.post("/support/checkout", data=_form(interval="year", amount="80"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    assert emulator.list_objects("checkout.session") == []
    # A one-time gift on top of a membership is still welcome.
    assert client.post("/support/checkout", data=_form()).status_code == 303


def test_a_canceled_member_may_join_again(client, db, emulator):
    user = make_user()
    db.session.add(
        Membership(
            user_id=user.id,
            stripe_subscription_id="sub_old",
            status="canceled",
            interval="month",
            amount=800,
            currency="usd",
        )
    )
    db.session.commit()
    login(client, user)
    _session_id(client.post("/support/checkout", data=_form(interval="month", amount="8")))


def test_stripe_refusal_becomes_a_readable_message(client, db, emulator):
    user = make_user(stripe_customer_id="cus_deleted_elsewhere")
    login(client, user)
    response = client.post("/support/checkout", data=_form())
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert "Our payment provider couldn't accept this payment" in html
    assert "Traceback" not in html and "cus_deleted_elsewhere" not in html
    assert db.session.scalar(select(func.count()).select_from(CheckoutAttempt)) == 0


def test_unreachable_stripe_becomes_a_readable_message(app, client, db):
    import stripe

    class Unreachable(stripe.HTTPClient):
        """Stands where the network would leave this machine: every connection fails."""

        name = "unreachable"

        def request(self, method, url, headers, post_data=None, *, _usage=None):
            raise stripe.APIConnectionError("Connection refused")

        def close(self):
            return None

    from donations.payments.gateway import Gateway, build_client

    app.extensions["payments_gateway"] = Gateway(
        build_client(app, http_client=Unreachable()), app.config["STRIPE_WEBHOOK_SECRET"]
    )
    response = client.post("/support/checkout", data=_form())
    assert response.status_code == 503
    assert "couldn't reach our payment provider" in unescape(response.get_data(as_text=True))


def test_a_failed_checkout_does_not_leave_a_second_customer_behind(app, client, db, emulator):
    from donations.payments import gateway as gateway_module
    from donations.payments.types import PaymentUnavailable

    user = make_user()
    login(client, user)
    real_create = gateway_module.Gateway.create_checkout

    def refuse(self, request):
        raise PaymentUnavailable("down for a moment")

    gateway_module.Gateway.create_checkout = refuse
    try:
        assert client.post("/support/checkout", data=_form()).status_code == 503
    finally:
        gateway_module.Gateway.create_checkout = real_create
    db.session.refresh(user)
    assert user.stripe_customer_id is None  # our transaction rolled back…
    _session_id(client.post("/support/checkout", data=_form(attempt="second-attempt-12345678")))
    # …but Stripe (here the emulator) made the customer only once.
    assert len(emulator.list_objects("customer")) == 1


def test_back_from_checkout_offers_the_same_choice_in_one_click(client, db, emulator):
    response = client.post(
        "/support/checkout", data=_form(interval="year", amount="80", cover_fee="1")
    )
    cancel_url = emulator.get(_session_id(response))["cancel_url"]
    page = client.get(urlsplit(cancel_url).path + "?" + urlsplit(cancel_url).query)
    html = unescape(page.get_data(as_text=True))
    assert "Try again: Join for $82.70 / year" in html
    again = html.split("Try again")[0].rsplit('href="', 1)[1].split('"')[0]
    assert parse_qs(urlsplit(again).query) == {
        "interval": ["year"],
        "currency": ["usd"],
        "amount": ["80"],
        "cover_fee": ["1"],
    }
    assert "mailto:support@localhost" in html and "no-reply@" not in html  # a mailbox read
    plain = client.get("/support/cancelled").get_data(as_text=True)
    assert "Back to supporting" in plain


def test_a_typed_amount_wins_over_a_preset_left_selected(client, db, emulator):
    # Without JavaScript nothing unchecks the $25 preset while the reader types 40.
    response = client.post("/support/checkout", data=_form(amount="25", custom_amount=" 40 "))
    assert emulator.get(_session_id(response))["amount_total"] == 4000


def test_the_box_posts_the_preset_of_the_chosen_interval(client, db, emulator):
    presets = {"preset_once": "25", "preset_month": "8", "preset_year": "80"}
    data = _form(interval="year", **presets)
    del data["amount"]
    session = emulator.get(_session_id(client.post("/support/checkout", data=data)))
    assert (session["mode"], session["amount_total"]) == ("subscription", 8000)
