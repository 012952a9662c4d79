"""Pages say one thing to the reader in front of them: no ask to staff or to someone just
thanked, no contradiction between sign-up and the support box, and a contact that answers."""

from __future__ import annotations

import re

from donations import create_app
from donations.models import CheckoutAttempt
from tests.conftest import base_config
from tests.factories import login, make_article, make_membership, make_user


def test_staff_are_not_asked_to_become_members(client, db):
    login(client, make_user(email="editor@example.org", is_staff=True))
    assert "Become a member" not in client.get("/").get_data(as_text=True)


def test_the_thanks_page_does_not_ask_the_reader_it_thanks(client, db):
    db.session.add(
        CheckoutAttempt(
            stripe_session_id="cs_gift", interval="once", amount=2500, currency="usd",
            status="complete",
        )
    )  # fmt: skip
    db.session.commit()
    page = client.get("/support/thanks?session_id=cs_gift").get_data(as_text=True)
    assert "Thank you!" in page and "Become a member" not in page


def test_supports_title_does_not_ask_a_member_to_become_one(client, db):
    user = make_user()
    make_membership(user)
    login(client, user)
    page = client.get("/support").get_data(as_text=True)
    assert "<title>Your membership" in page and "<title>Become a member" not in page


def test_sign_up_says_no_account_is_needed_to_give(client, db):
    page = client.get("/signup").get_data(as_text=True)
    assert (
        "lets you become a member" not in page and "You don't need one to give or to join" in page
    )


def test_sign_up_sent_says_each_case_plainly(client, db):
    page = client.get("/signup/sent").get_data(as_text=True)
    assert "<li>New to us? Your account is ready and you're logged in.</li>" in page
    assert "If the address is new to us" not in page


def test_the_test_mode_banner_is_a_labelled_landmark(client, db):
    page = client.get("/").get_data(as_text=True)
    assert '<div class="test-banner" role="region" aria-label="Test mode">' in page


def test_readers_write_to_a_mailbox_not_the_no_reply_sender(tmp_path):
    app = create_app({**base_config(tmp_path), "SITE_URL": "https://news.example.org"})
    assert app.config["MAIL_FROM"].endswith("<no-reply@news.example.org>")
    assert app.config["CONTACT_EMAIL"] == "support@news.example.org"
    named = create_app({**base_config(tmp_path), "MAIL_FROM": "Desk <desk@news.example.org>"})
    assert named.config["CONTACT_EMAIL"] == "desk@news.example.org"


def test_a_frequency_tab_keeps_the_typed_amount_without_javascript(client, db):
    page = client.get("/support?interval=once").get_data(as_text=True)
    assert 'name="switch" value="month"' in page
    switched = client.post(
        "/support/checkout",
        data={"interval": "once", "currency": "usd", "amount": "custom", "custom_amount": "40",
              "attempt": "attempt-token-0123456789", "switch": "month", "cover_fee": "1"},
    )  # fmt: skip
    assert switched.status_code == 303
    again = client.get(switched.headers["Location"]).get_data(as_text=True)
    assert 'value="40"' in again and 'aria-pressed="true">Monthly' in again
    assert "Join for $41.51 / month" in again  # (4000 + 30) / 0.971, the fee kept too


def test_the_box_and_support_offer_the_same_amounts_in_the_same_order(client, db):
    make_article(slug="night-trains")
    box = (
        client.get("/articles/night-trains").get_data(as_text=True).split('class="support-box"')[1]
    )
    support = client.get("/support?interval=month").get_data(as_text=True)
    box_month = re.findall(r'name="preset_month" value="([^"]+)"', box)
    page_month = re.findall(r'name="amount" value="([^"]+)"', support)[:-1]  # without "custom"
    assert box_month == page_month == ["5", "8", "15"]
    tabs = re.findall(r'name="switch" value="(\w+)"', support)
    box_tabs = re.findall(r'name="interval" value="(\w+)"', box)
    assert tabs == box_tabs == ["month", "year", "once"]
    names = re.findall(r'name="switch" value="\w+"[^>]*>(\w+)<', support)
    assert names == ["Monthly", "Yearly", "Once"] and all(f"> {n}</label>" in box for n in names)
