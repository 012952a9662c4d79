"""The dashboard's numbers, against a known history with fixed dates, computed by hand."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from donations.models import utcnow
from donations.staff.stats import member_history
from donations.staff.stats_money import monthly_amount
from tests.factories import make_article
from tests.staff.factories import (
    change_status,
    make_failed_payment,
    make_gift,
    make_supporter,
    store,
    subscribe,
    subscription_event,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def d(month: int, day: int, hour: int = 9) -> datetime:
    """A time in 2026."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


def stat(html: str, name: str) -> str:
    """The text of the element marked data-stat=name."""
    found = re.search(rf'data-stat="{re.escape(name)}">([^<]*)<', html)
    assert found, f"no data-stat={name}"
    return found.group(1).strip()


@pytest.fixture
def history(db):
    """Eight supporters with a history that every number below is computed from.

    Member deltas: A +1 08-01, E +1 10-01, D +1 09-01, G +1 10-10 and -1 10-12,
    C +1 10-25 (and a second subscription 11-19: still one person), B +1 11-01,
    D -1 11-15, E past due from 11-18 (still a member), F +1 today; H incomplete.
    """
    make_article(slug="kalvesk", title="The Kalvesk files")
    a = make_supporter("Ada")
    a_sub = subscribe(a, d(8, 1), amount=800)
    e = make_supporter("Eve")
    e_sub = subscribe(e, d(10, 1), interval="year", amount=5000, currency="gbp")
    dd = make_supporter("Dan")
    d_sub = subscribe(dd, d(9, 1), amount=1200)
    g = make_supporter("Gus")
    g_sub = subscribe(g, d(10, 10), amount=900)
    change_status(g_sub, "canceled", d(10, 12))
    c = make_supporter("Cleo")
    subscribe(c, d(10, 25), amount=500, article="school-profile")
    subscribe(c, d(11, 19), interval="year", amount=6000)
    b = make_supporter("Bo")
    subscribe(b, d(11, 1), interval="year", amount=10000, currency="eur", article="kalvesk")
    change_status(d_sub, "canceled", d(11, 15))
    change_status(e_sub, "past_due", d(11, 18))
    make_failed_payment(e_sub, d(11, 18, 6))
    f = make_supporter("Fay")
    subscribe(f, d(11, 20, 8), amount=700, article="kalvesk")
    h = make_supporter("Hal")
    subscribe(h, d(11, 5), status="incomplete", amount=400)
    # Gifts: two in USD in the window (one partly refunded), one EUR fully refunded,
    # one too old, and a membership payment that is not a gift.
    make_gift(None, 2500, "usd", d(11, 10), refunded=1000, article="school-profile")
    make_gift(c, 1000, "usd", d(11, 19), article="kalvesk")
    make_gift(b, 5000, "eur", d(11, 1), refunded=5000)
    make_gift(a, 3000, "usd", d(10, 1), article="old-story")
    make_gift(a, 800, "usd", d(11, 1), kind="membership_first")
    return {"a": a, "a_sub": a_sub, "e": e}


def test_every_number_on_the_dashboard_matches_the_hand_computed_history(staff_client, history):
    with time_machine.travel(NOW, tick=False):
        html = staff_client.get("/staff/").get_data(as_text=True)
    # Members now: A, B, C (two subscriptions, one person), E (past due) and F.
    assert stat(html, "members") == "5"
    assert stat(html, "goal") == "20,000"
    assert stat(html, "percent") == "0.0"
    assert stat(html, "remaining") == "19,995"
    # Today: F joined. 7 days (14-20 Nov): F joined, D left. 30 days (22 Oct-20 Nov): C, B, F; D.
    assert [stat(html, f"{k}-today") for k in ("joined", "left", "net")] == ["1", "0", "+1"]
    assert [stat(html, f"{k}-7-days") for k in ("joined", "left", "net")] == ["1", "1", "+0"]
    assert [stat(html, f"{k}-30-days") for k in ("joined", "left", "net")] == ["3", "1", "+2"]
    # Churn: 1 lost of the 3 members (A, D, E) at the start of 22 October.
    assert stat(html, "churn") == "33.3%"
    assert (stat(html, "churn-lost"), stat(html, "churn-start")) == ("1", "3")
    # MRR: USD 800 (A) + 500 (C) + 6000/12 (C yearly) + 700 (F); EUR 10000/12 = 833.33;
    # GBP 5000/12 = 416.67 (E is past due but still a member). H (incomplete) and D don't count.
    assert stat(html, "mrr-usd") == "$25"
    assert stat(html, "mrr-eur") == "€8.33"
    assert stat(html, "mrr-gbp") == "£4.17"
    assert (stat(html, "interval-month"), stat(html, "interval-year")) == ("3", "3")
    # Gifts in 30 days: USD 2500 - 1000 refunded + 1000; EUR 5000 fully refunded.
    assert (stat(html, "gifts-count-usd"), stat(html, "gifts-net-usd")) == ("2", "$25")
    assert (stat(html, "gifts-count-eur"), stat(html, "gifts-net-eur")) == ("1", "€0")
    # Past due: Eve, failing since 18 Nov.
    assert stat(html, "past-due") == "1"
    assert "Eve" in html and '<time datetime="2026-11-18T06:00:00Z">' in html
    # Sources: kalvesk brought B and F and a gift; school-profile brought C and a gift.
    kalvesk = re.search(r'data-source="kalvesk">(.*?)</tr>', html, re.S).group(1)
    assert "The Kalvesk files" in kalvesk and "<td>2</td><td>1</td>" in kalvesk
    school = re.search(r'data-source="school-profile">(.*?)</tr>', html, re.S).group(1)
    assert "(no such article)" in school and "<td>1</td><td>1</td>" in school
    assert 'data-source="old-story"' not in html
    assert "Never run" in stat(html, "last-sync")


def test_members_per_day_follow_the_dated_changes(app, history):
    with time_machine.travel(NOW, tick=False):
        result = member_history(utcnow(), 90, 5)
    by_day = {p.day: p.members for p in result.points}
    assert len(result.points) == 90 and result.points[-1].day == date(2026, 11, 20)
    assert result.points[0].day == date(2026, 8, 23)
    assert by_day[date(2026, 8, 23)] == 1  # A (D starts on 1 September)
    assert by_day[date(2026, 10, 11)] == 4  # A, D, E, G
    assert by_day[date(2026, 10, 12)] == 3  # G cancelled
    assert by_day[date(2026, 11, 14)] == 5  # A, D, E, C, B
    assert by_day[date(2026, 11, 15)] == 4  # D cancelled
    assert by_day[date(2026, 11, 20)] == 5  # F joined


def test_the_past_does_not_change_when_someone_cancels_today(staff_client, history):
    with time_machine.travel(NOW, tick=False):
        before = staff_client.get("/staff/?range=30").get_data(as_text=True)
        change_status(history["a_sub"], "canceled", NOW)
        after = staff_client.get("/staff/?range=30").get_data(as_text=True)

    def rows(html: str) -> list[str]:
        return re.findall(r"<tr><td>(2026-\d\d-\d\d)</td><td>([\d,]+)</td>", html)

    old, new = rows(before), rows(after)
    assert len(old) == len(new) == 30
    # Newest first: today's count drops by one; every earlier day is exactly as before.
    assert old[0] == ("2026-11-20", "5") and new[0] == ("2026-11-20", "4")
    assert old[1:] == new[1:]
    assert stat(after, "members") == "4"


def test_a_chart_range_not_offered_is_a_400(staff_client, db):
    assert staff_client.get("/staff/?range=7").status_code == 400


@pytest.mark.parametrize(("query", "days"), [("", 90), ("?range=30", 30), ("?range=365", 365)])
def test_the_chart_range_is_chosen_by_link(staff_client, db, query, days):
    with time_machine.travel(NOW, tick=False):
        html = staff_client.get("/staff/" + query).get_data(as_text=True)
    assert f"Members over the last {days} days" in html
    assert len(re.findall(r"<tr><td>\d{4}-\d\d-\d\d</td>", html)) == days
    assert f'<strong aria-current="true">{days} days</strong>' in html
    other = next(r for r in (30, 90, 365) if r != days)
    assert f'href="/staff/?range={other}"' in html


def test_the_chart_is_svg_with_text_alternatives_and_no_inline_styles(staff_client, history):
    with time_machine.travel(NOW, tick=False):
        response = staff_client.get("/staff/")
    html = response.get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "From 1 members on 23 August 2026 to 5 on 20 November 2026" in svg
    assert "<polyline" in svg and 'class="chart-goal"' in svg
    assert "style=" not in html and "<script>" not in html
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("amount", "monthly"), [(1200, 100), (1000, 83), (1002, 84), (6, 1), (5, 0)]
)
def test_yearly_amounts_become_monthly_rounded_half_up(amount, monthly):
    assert monthly_amount(amount, "year") == monthly
    assert monthly_amount(amount, "month") == amount


def test_churn_never_reads_zero_beside_members_lost():
    from donations.staff.stats import Churn

    since = datetime(2026, 11, 1, tzinfo=UTC)
    assert Churn(since, lost=1, at_start=12431).label == "0.008%"
    assert Churn(since, lost=1, at_start=3).label == "33.3%"
    assert Churn(since, lost=0, at_start=3).label == "0.0%"
    assert Churn(since, lost=0, at_start=0).label == "—"


def test_projection_gives_the_goal_date_at_the_last_30_days_pace():
    from donations.staff.stats import project

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    # 300 net in 30 days = 10 a day; 1,000 to go = 100 days.
    assert project(19_000, 20_000, 300, now).reached_on == date(2027, 3, 11)
    assert project(19_000, 20_000, 0, now).reached_on is None
    assert project(19_000, 20_000, -5, now).reached is False
    assert project(20_000, 20_000, 10, now).reached is True


def test_dashboard_shows_the_projection_and_formatted_numbers(staff_client, db):
    html = staff_client.get("/staff/").get_data(as_text=True)
    assert "At the last 30 days' pace the goal is not getting closer." in html


def test_the_dashboard_shows_the_webhook_backlog_and_recent_failures(staff_client, db):
    calm = staff_client.get("/staff/").get_data(as_text=True)
    assert stat(calm, "webhook-backlog").startswith("No event is waiting to be applied.")
    # Two stored for the queue worker (WEBHOOK_QUEUE=1), one that failed and awaits replay.
    store(subscription_event("evt_waiting_1"), "received")
    store(subscription_event("evt_waiting_2"), "received")
    store(subscription_event("evt_broken"), "failed", error="boom")
    html = staff_client.get("/staff/").get_data(as_text=True)
    assert stat(html, "webhook-backlog").startswith("2 events waiting for the worker; the oldest")
    assert "1 failed in the last 24 hours</a>" in html
    assert 'href="/staff/events?status=failed"' in html
