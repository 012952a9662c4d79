"""GET /api/progress, the embeddable widget, the support box, and the TEST MODE banner."""

from __future__ import annotations

from datetime import datetime

import pytest

from donations.membership.progress import move_counter
from tests.factories import make_article


def _set_members(db, n: int) -> None:
    # Through the counter's one writer, which lets the cached progress go on commit.
    move_counter(to=n)
    db.session.commit()


def test_progress_json_follows_the_contract(client, db):
    _set_members(db, 12431)
    response = client.get("/api/progress")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"members", "goal", "percent", "remaining", "updated_at"}
    assert (body["members"], body["goal"], body["remaining"]) == (12431, 20000, 7569)
    assert body["percent"] == 62.2 and isinstance(body["percent"], float)
    assert datetime.fromisoformat(body["updated_at"]).tzinfo is not None
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=" in cache and "stale-while-revalidate=" in cache
    assert response.headers["ETag"]


def test_matching_etag_gets_304_and_a_change_gets_a_new_etag(client, db):
    _set_members(db, 10)
    etag = client.get("/api/progress").headers["ETag"]
    again = client.get("/api/progress", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    _set_members(db, 11)
    changed = client.get("/api/progress", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json["members"] == 11


def test_goal_passed_caps_percent_and_says_so(client, db, app):
    _set_members(db, 20001)
    body = client.get("/api/progress").json
    assert (body["percent"], body["remaining"]) == (100.0, 0)
    article = make_article()
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "Goal reached" in page and "We passed our goal of 20,000 members" in page


def test_support_box_shows_count_goal_bar_and_remaining(client, db):
    _set_members(db, 12431)
    article = make_article()
    for path in ("/", f"/articles/{article.slug}"):
        page = client.get(path).get_data(as_text=True)
        assert "<strong>12,431</strong> of 20,000 members" in page
        assert 'role="progressbar"' in page and 'aria-valuenow="12431"' in page
        assert 'aria-valuemax="20000"' in page
        assert "7,569 more members to go (62.2% there)" in page


def test_widget_is_self_contained_cookie_free_and_embeddable(client, db):
    _set_members(db, 500)
    response = client.get("/embed/progress")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>500</strong> of 20,000 members" in html
    assert 'class="site-header"' not in html and "<nav" not in html
    assert "Set-Cookie" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert 'target="_blank"' in html and "/support" in html


def test_ordinary_pages_cannot_be_framed(client, db):
    response = client.get("/api/progress")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("settings", "banner"),
    [
        ({}, "offline Stripe emulator"),
        (
            {"STRIPE_SECRET_KEY": "sk_test_abc", "STRIPE_WEBHOOK_SECRET": "whsec_x"},
            "Stripe test keys",
        ),
        (
            {
                "STRIPE_SECRET_KEY": "sk_live_abc",
                "STRIPE_WEBHOOK_SECRET": "whsec_x",
                "STRIPE_ALLOW_LIVE": "1",
            },
            None,
        ),
    ],
)
def test_test_mode_banner_shows_unless_live(make_app, settings, banner):
    app = make_app(**settings)
    page = app.test_client().get("/").get_data(as_text=True)
    if banner:
        assert "<strong>TEST MODE</strong>" in page and banner in page
    else:
        assert "TEST MODE" not in page
