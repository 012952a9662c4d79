"""HTTP caching: public, validated answers for readers without a session; private for the rest;
static files under content-hashed names, cached for a year."""

from __future__ import annotations

import re

import pytest

from donations.articles.services import ArticleData, save_article
from donations.membership.progress import move_counter
from tests.factories import login, make_article, make_user

PUBLIC_PATHS = ["/", "/articles/{slug}", "/feed.xml", "/api/progress", "/embed/progress"]


@pytest.fixture
def delivery():
    # An hour: what a test sees change at once was invalidated, not expired.
    return {"CACHE_SECONDS": 3600}


@pytest.fixture
def story(db):
    return make_article(slug="flood-defences", title="Flood defences audited")


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_an_anonymous_reader_gets_a_public_answer_and_304_for_its_etag(client, story, path):
    url = path.format(slug=story.slug)
    first = client.get(url)
    assert first.status_code == 200
    cache = first.headers["Cache-Control"]
    assert "public" in cache and "max-age=" in cache and "stale-while-revalidate=" in cache
    assert "Set-Cookie" not in first.headers
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and "public" in again.headers["Cache-Control"]
    # The tag as a compressing proxy (nginx gzip) weakens it: If-None-Match compares weakly.
    weakened = client.get(url, headers={"If-None-Match": f"W/{etag}"})
    assert weakened.status_code == 304


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_logged_in_reader_never_gets_a_public_answer(client, story, path):
    url = path.format(slug=story.slug)
    login(client, make_user())
    for headers in ({}, {"If-None-Match": client.get(url).headers.get("ETag", "x")}):
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        assert "public" not in response.headers["Cache-Control"]
        assert "private" in response.headers["Cache-Control"]


def test_a_warm_public_page_costs_no_database_statement(app, db, client, story):
    # Nothing an anonymous read does grows with the members or articles stored: after the
    # first request, the count, the articles' version and the page all come from caches.
    from sqlalchemy import event

    urls = [path.format(slug=story.slug) for path in PUBLIC_PATHS]
    for url in urls:
        assert client.get(url).status_code == 200
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for url in urls * 3:
            assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_reader_with_only_another_sites_cookie_gets_the_public_page(client, story, path):
    # An analytics or CDN cookie on our domain is no session: the page is the public one.
    client.set_cookie("_ga", "GA1.1.123.456")
    response = client.get(path.format(slug=story.slug))
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]


def test_pages_for_anyone_vary_on_the_cookie_and_the_json_does_not(client, story):
    assert "Cookie" in client.get(f"/articles/{story.slug}").headers.get("Vary", "")
    assert "Cookie" not in client.get("/api/progress").headers.get("Vary", "")


def test_a_logged_in_reader_sees_their_own_navigation_not_a_cached_page(client, story):
    url = f"/articles/{story.slug}"
    assert "Log in" in client.get(url).get_data(as_text=True)  # kept for anonymous readers
    login(client, make_user())
    page = client.get(url).get_data(as_text=True)
    assert "Log out" in page and "Log in" not in page


def test_a_saved_article_shows_at_once_with_a_new_etag(client, db, story):
    url = f"/articles/{story.slug}"
    before = client.get(url)
    data = ArticleData(slug=story.slug, title="Flood defences: the audit", body_markdown="New.")
    save_article(ArticleData(**{**data.__dict__, "published": True}))
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert "Flood defences: the audit" in after.get_data(as_text=True)
    assert "Flood defences: the audit" in client.get("/").get_data(as_text=True)
    assert "Flood defences: the audit" in client.get("/feed.xml").get_data(as_text=True)


def test_an_unpublished_article_is_gone_at_once(client, db, story):
    url = f"/articles/{story.slug}"
    assert client.get(url).status_code == 200
    save_article(ArticleData(slug=story.slug, title=story.title, body_markdown="x"))
    db.session.commit()
    assert client.get(url).status_code == 404


def test_a_new_member_changes_the_page_and_its_etag(client, db, story):
    url = f"/articles/{story.slug}"
    before = client.get(url)
    move_counter(to=41)
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert "<strong>41</strong> of 20,000 members" in after.get_data(as_text=True)


def test_a_page_that_writes_the_session_is_neither_kept_nor_public(make_app):
    # E.g. a support box with a form: its CSRF token belongs to one reader. (An app of its
    # own, with no app context held across requests: Flask-WTF keeps the token in `g`.)
    from flask import render_template_string

    from donations.core.http_cache import public_page

    def with_a_form():
        return public_page(("form",), lambda: render_template_string("{{ csrf_token() }}"))

    app = make_app()
    app.add_url_rule("/with-a-form", view_func=with_a_form)
    first, second = app.test_client().get("/with-a-form"), app.test_client().get("/with-a-form")
    for response in (first, second):
        assert "public" not in response.headers["Cache-Control"]
        assert "Set-Cookie" in response.headers
    assert first.data != second.data  # each reader got their own token, not a kept page


def test_static_files_have_hashed_names_cached_for_a_year(client, story):
    page = client.get(f"/articles/{story.slug}").get_data(as_text=True)
    css = re.search(r'href="(/static/css/site\.([0-9a-f]{10})\.css)"', page)
    assert css, "the stylesheet is linked under a content-hashed name"
    response = client.get(css.group(1))
    assert response.status_code == 200 and b"{" in response.data
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache
    assert "no-cache" not in cache
    plain = client.get("/static/css/site.css")  # an old page's link still works, briefly cached
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("Cache-Control", "")
    response.close()
    plain.close()


def test_the_hashed_name_follows_the_content():
    from donations.core.static import hashed_name

    assert hashed_name("css/site.css", b"a") != hashed_name("css/site.css", b"b")
    assert re.fullmatch(r"js/site\.[0-9a-f]{10}\.js", hashed_name("js/site.js", b"x"))
