"""Supporters for staff: search, filters, pagination, one supporter's page and the CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
import time_machine

from donations.extensions import db
from donations.models import StripeEvent
from donations.staff.csvexport import csv_lines, neutralise
from donations.staff.members import PER_PAGE
from tests.factories import make_user
from tests.staff.factories import change_status, make_gift, make_supporter, subscribe

T = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.fixture
def people(db):
    """A member with a login, a past-due yearly EUR member, a lapsed member and a giver."""
    member = make_user(
        email="ana.member@example.org", name="Ana Lima", stripe_customer_id="cus_ana"
    )
    monthly = subscribe(member, T, sub_id="sub_ana_monthly")
    late = make_supporter("Bruno Late", billing_email="Bruno@Example.NET")
    late_sub = subscribe(late, T, interval="year", amount=9000, currency="eur")
    change_status(late_sub, "past_due", datetime(2026, 11, 10, tzinfo=UTC))
    gone = make_supporter("Carla Gone")
    change_status(subscribe(gone, T), "canceled", datetime(2026, 11, 5, tzinfo=UTC))
    giver = make_supporter("Dora Giver")
    make_gift(giver, 2500, "usd", T, refunded=500)
    return {"member": member, "monthly": monthly, "late": late, "gone": gone, "giver": giver}


def names(html: str) -> set[str]:
    """Supporter names listed on the page."""
    return {n for n in ("Ana Lima", "Bruno Late", "Carla Gone", "Dora Giver") if n in html}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"Ana Lima", "Bruno Late", "Carla Gone", "Dora Giver"}),
        ("q=ana.member@example", {"Ana Lima"}),  # login email
        ("q=bruno@example.net", {"Bruno Late"}),  # billing email, any case
        ("q=GONE", {"Carla Gone"}),  # name
        ("q=cus_ana", {"Ana Lima"}),  # Stripe customer id
        ("q=sub_ana_monthly", {"Ana Lima"}),  # Stripe subscription id
        ("q=100%25", set()),  # a literal %, not a wildcard
        ("status=member", {"Ana Lima", "Bruno Late"}),
        ("status=past_due", {"Bruno Late"}),
        ("status=canceled", {"Carla Gone"}),
        ("status=none", {"Dora Giver"}),
        ("interval=year", {"Bruno Late"}),
        ("currency=EUR", {"Bruno Late"}),
        ("status=member&currency=usd", {"Ana Lima"}),
    ],
)
def test_supporters_are_found_by_search_and_filters(staff_client, people, query, expected):
    html = staff_client.get(f"/staff/members?{query}").get_data(as_text=True)
    assert names(html) == expected
    # Unfiltered lists also hold the staff account doing the search.
    found = len(expected) + (1 if query in ("", "status=none") else 0)
    assert f'data-stat="found">{found}<' in html


def test_supporter_list_is_paginated_and_keeps_filters(staff_client, db):
    for i in range(PER_PAGE + 3):
        make_supporter(f"Paged {i:03d}")
    first = staff_client.get("/staff/members?q=paged").get_data(as_text=True)
    assert "Page 1 of 2" in first and first.count("Paged ") == PER_PAGE
    assert 'href="/staff/members?page=2&amp;q=paged"' in first
    second = staff_client.get("/staff/members?q=paged&page=2").get_data(as_text=True)
    assert second.count("Paged ") == 3
    assert staff_client.get("/staff/members?q=paged&page=3").status_code == 404


def test_a_supporters_page_shows_memberships_donations_refunds_and_their_events(
    staff_client, people
):
    giver = people["giver"]
    db.session.add_all(
        [
            StripeEvent(
                stripe_event_id="evt_by_customer",
                type="customer.updated",
                created=T,
                livemode=False,
                payload="{}",
                customer_id=giver.stripe_customer_id,
            ),
            StripeEvent(
                stripe_event_id="evt_someone_else",
                type="customer.updated",
                created=T,
                livemode=False,
                payload="{}",
                customer_id="cus_other",
            ),
        ]
    )
    db.session.commit()
    html = staff_client.get(f"/staff/members/{giver.id}").get_data(as_text=True)
    assert "Dora Giver" in html and "$25" in html and "$5" in html and "$20" in html
    assert "evt_by_customer" in html and "evt_someone_else" not in html
    member_page = staff_client.get(f"/staff/members/{people['member'].id}").get_data(True)
    assert "sub_ana_monthly" in member_page and "active" in member_page
    assert staff_client.get("/staff/members/999999").status_code == 404


def test_events_found_by_object_id_belong_to_the_supporter(staff_client, people):
    db.session.add(
        StripeEvent(
            stripe_event_id="evt_sub_update",
            type="customer.subscription.updated",
            created=T,
            livemode=False,
            payload=json.dumps({"id": "evt_sub_update"}),
            object_id="sub_ana_monthly",
        )
    )
    db.session.commit()
    html = staff_client.get(f"/staff/members/{people['member'].id}").get_data(as_text=True)
    assert "evt_sub_update" in html


# --- CSV ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("\ncmd", "'\ncmd"),
        (" =1+1", "' =1+1"),
        # Opened with ";" as the separator (much of Europe), this is a cell "=1+1".
        (";=1+1", ";'=1+1"),
        ("a,@SUM(A1)", "a,'@SUM(A1)"),
        ("x\t-2", "x\t'-2"),
        ("\uff1dSUM(A1)", "'\uff1dSUM(A1)"),
        # A pipe starts a DDE call in some spreadsheets.
        ("|cmd", "'|cmd"),
        ("a;|cmd", "a;'|cmd"),
        # Full-width and compatibility forms read as their ASCII selves (NFKC): small equals,
        # full-width plus, at, pipe and minus, and an ideographic space before an equals.
        ("\ufe661", "'\ufe661"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("\uff5ccmd", "'\uff5ccmd"),
        ("\ufe632", "'\ufe632"),
        ("\u3000=1", "'\u3000=1"),
        # After a separator too, and the full-width semicolon is a separator once normalised.
        ("Zoë;\ufe661", "Zoë;'\ufe661"),
        ("a\uff1b=1", "a\uff1b'=1"),
        ("Zoë Ōta", "Zoë Ōta"),
        ("Jean-Luc O'Neil", "Jean-Luc O'Neil"),
        ("ana@example.org", "ana@example.org"),
        (42, 42),
    ],
)
def test_formula_cells_are_neutralised(cell, safe):
    assert neutralise(cell) == safe


def test_csv_export_streams_the_filtered_list_with_formulas_neutralised(staff_client, people):
    make_supporter("=cmd|' /C calc'!A0", billing_email="+evil@example.net")
    response = staff_client.get("/staff/members.csv?status=member")
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:6] == [
        "user_id",
        "email",
        "billing_email",
        "name",
        "stripe_customer_id",
        "member",
    ]
    assert sorted(r[3] for r in rows[1:]) == ["Ana Lima", "Bruno Late"]
    assert all(r[5] == "yes" for r in rows[1:])
    everyone = staff_client.get("/staff/members.csv").get_data(as_text=True)
    evil = next(r for r in csv.reader(io.StringIO(everyone)) if "calc" in r[3])
    assert evil[3] == "'=cmd|' /C calc'!A0" and evil[2] == "'+evil@example.net"
    assert evil[5] == "no"


def test_csv_export_carries_each_supporters_newest_plan_and_a_dated_file_name(staff_client, people):
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False):
        response = staff_client.get("/staff/members.csv?status=member")
    assert 'filename="supporters-2026-12-01.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    plans = {r["name"]: (r["status"], r["interval"], r["amount"], r["currency"]) for r in rows}
    assert plans["Bruno Late"] == ("past_due", "year", "90.00", "EUR")
    assert plans["Ana Lima"][:2] == ("active", "month") and plans["Ana Lima"][3] == "USD"


def test_csv_lines_are_produced_one_at_a_time():
    rows = ({"n": i} for i in range(3))
    lines = csv_lines(["n"], ([r["n"]] for r in rows))
    assert next(lines) == '"n"\r\n'
    assert next(lines) == '"0"\r\n'
    assert list(lines) == ['"1"\r\n', '"2"\r\n']


def test_an_unknown_filter_value_is_a_400_not_a_silently_wider_list(staff_client, people):
    for query in ("status=bogus", "interval=week", "currency=zzz"):
        assert staff_client.get(f"/staff/members?{query}").status_code == 400
        assert staff_client.get(f"/staff/members.csv?{query}").status_code == 400
    assert staff_client.get("/staff/events?status=bogus").status_code == 400


@pytest.mark.parametrize("path", ["/staff/members", "/staff/events", "/staff/articles"])
def test_a_page_that_is_not_a_number_is_a_400(staff_client, path):
    assert staff_client.get(f"{path}?page=abc").status_code == 400
