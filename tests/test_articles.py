"""Public article pages: home, article, feed, health, and sanitised article HTML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from donations.articles.rendering import render_markdown, sanitise_html
from tests.factories import make_article

ATOM = "{http://www.w3.org/2005/Atom}"


def test_home_lists_published_articles_newest_first(client, db):
    older = make_article(title="Older story", published_at=datetime(2026, 1, 1, tzinfo=UTC))
    newer = make_article(title="Newer story", published_at=datetime(2026, 2, 1, tzinfo=UTC))
    make_article(title="Secret draft", published=False, published_at=None)
    page = client.get("/").get_data(as_text=True)
    assert page.index(newer.title) < page.index(older.title)
    assert "Secret draft" not in page


def test_home_is_paginated(app, client, db):
    app.config["ARTICLES_PER_PAGE"] = 2
    titles = [make_article(title=f"Paged story {n}").title for n in range(5)]
    first = client.get("/").get_data(as_text=True)
    third = client.get("/?page=3").get_data(as_text=True)
    assert titles[4] in first and titles[3] in first and titles[2] not in first
    assert titles[0] in third and "Page 3 of 3" in third
    assert 'rel="next"' in first and 'rel="next"' not in third
    # Pages out of range are errors, not some other page (tests/test_pagination.py).
    assert client.get("/?page=4").status_code == 404
    assert client.get("/?page=0").status_code == 400


def test_article_page_shows_article_meta_and_support_box(client, db, app):
    article = make_article(title="Bridges & budgets", summary="Where the money went.")
    response = client.get(f"/articles/{article.slug}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Bridges &amp; budgets</h1>" in html
    assert f'<link rel="canonical" href="http://localhost/articles/{article.slug}">' in html
    assert '<meta property="og:title" content="Bridges &amp; budgets">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert 'class="support-box"' in html
    assert 'role="progressbar"' in html
    assert f"of {app.config['MEMBERSHIP_GOAL']:,} members" in html


@pytest.mark.parametrize("slug", ["no-such-story", "draft-story"])
def test_unknown_or_unpublished_article_is_a_friendly_404(client, db, slug):
    make_article(slug="draft-story", published=False, published_at=None)
    response = client.get(f"/articles/{slug}")
    assert response.status_code == 404
    assert "We can't find that page" in response.get_data(as_text=True)


def test_feed_is_valid_atom_with_published_articles(client, db):
    make_article(title="In the feed", body_markdown="Hello *world*")
    make_article(title="Not in the feed", published=False, published_at=None)
    response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("title", "id", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["In the feed"]
    entry = entries[0]
    for required in ("id", "updated", "published", "author", "content", "link"):
        assert entry.find(f"{ATOM}{required}") is not None
    assert "<em>world</em>" in entry.find(f"{ATOM}content").text
    assert datetime.fromisoformat(entry.find(f"{ATOM}updated").text).tzinfo is not None


def test_empty_feed_is_still_valid_atom(client, db):
    root = ET.fromstring(client.get("/feed.xml").data)
    assert root.find(f"{ATOM}updated").text == "1970-01-01T00:00:00Z"


def test_healthz_checks_the_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.json["status"] == "ok"


def test_healthz_reports_a_broken_database(client, db, monkeypatch):
    def broken(*args, **kwargs):
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "execute", broken)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "down"
    assert response.json["status"] == "down"


def test_unexpected_error_renders_a_friendly_500(app, client, db):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("kaboom")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong on our side" in html
    assert "kaboom" not in html


class _Elements(HTMLParser):
    """Collect the real elements and attributes of an HTML fragment (text is ignored)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((name, value or "") for name, value in attrs)


def _dangers(html: str) -> list[str]:
    parser = _Elements()
    parser.feed(html)
    found = [t for t in parser.tags if t in {"script", "iframe", "object", "embed", "style"}]
    found += [n for n, _ in parser.attrs if n.startswith("on") or n == "style"]
    found += [v for n, v in parser.attrs if n in {"href", "src"} and "script:" in v.lower()]
    return found


@pytest.mark.parametrize(
    "markdown",
    [
        "Hello <script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "![pic](x.png)<img src=x onerror=alert(1)>",
        "[click me](javascript:alert(1))",
        "[click me](JaVaScRiPt:alert(1))",
        "[click me](java\tscript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<p style="x" onclick="steal()">hi</p>',
        "![x](javascript:alert(1))",
    ],
)
def test_dangerous_markdown_never_reaches_the_page(client, db, markdown):
    article = make_article(body_markdown=f"Intro.\n\n{markdown}\n\nOutro.")
    page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    body = page.split('class="story-body">', 1)[1].split("<footer>", 1)[0]
    assert _dangers(body) == []
    assert "Intro." in body and "Outro." in body


def test_danger_detector_sees_raw_dangerous_html():
    # The check above is only worth something if it would notice unsanitised output.
    assert _dangers('<img src=x onerror=alert(1)><a href="javascript:x">') == [
        "onerror",
        "javascript:x",
    ]
    assert _dangers("<script>1</script>") == ["script"]


def test_sanitiser_removes_what_slips_past_the_markdown_parser():
    dirty = '<p onclick="x">ok</p><script>bad()</script><a href="javascript:bad()">l</a>'
    assert _dangers(sanitise_html(dirty)) == []
    assert "ok" in sanitise_html(dirty)


def test_markdown_keeps_newsroom_structure():
    html = render_markdown(
        "# Title\n\n## Section\n\n> A quote\n\n- one\n- two\n\n[link](https://example.org)"
    )
    assert "<h2>Title</h2>" in html and "<h2>Section</h2>" in html
    assert "<blockquote>" in html and "<li>one</li>" in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_favicon_ico_leads_to_the_site_icon(client, db):
    response = client.get("/favicon.ico")
    location = response.headers["Location"]
    assert response.status_code == 301 and re.match(r"^/static/favicon\.[\w.-]*svg$", location)
    icon = client.get(location)
    assert icon.mimetype == "image/svg+xml"
    icon.close()
