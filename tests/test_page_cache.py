"""The page cache (donations/core/http_cache.py): anonymous public pages answered before
Flask, exactly as Flask answers them, and never a page that is personal or out of date."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import request

from donations.articles.services import ArticleData, save_article
from donations.core.cache import Cache
from donations.core.http_cache import SHAREABLE, PageCache, public_page
from donations.core.logs import JsonFormatter
from donations.core.metrics import Metrics
from donations.membership.progress import move_counter
from tests.factories import login, make_article, make_user

PUBLIC_PATHS = ["/", "/articles/{slug}", "/feed.xml", "/api/progress", "/embed/progress"]
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def delivery():
    # An hour: what a test sees change at once was dropped, not expired.
    return {"CACHE_SECONDS": 3600}


@pytest.fixture
def story(db):
    return make_article(slug="flood-defences", title="Flood defences audited")


def _count_flask_requests(app) -> list[str]:
    # Counted where the page cache hands a request on (or, without it, at Flask's door):
    # a request refused by a before-request hook reached Flask too.
    reached: list[str] = []
    front = app.extensions.get("page_cache")
    inner = front.wsgi_app if front is not None else app.wsgi_app

    def counting(environ, start_response):
        reached.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return inner(environ, start_response)

    if front is not None:
        front.wsgi_app = counting
    else:
        app.wsgi_app = counting
    return reached


@pytest.fixture
def reached(app) -> list[str]:
    """Every request that got as far as Flask, as "METHOD /path"."""
    return _count_flask_requests(app)


def _without_request_id(response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.items() if k != "X-Request-ID"]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_hit_is_the_answer_flask_gave_but_for_a_new_request_id(client, story, reached, path):
    url = path.format(slug=story.slug)
    miss, hit = client.get(url), client.get(url)
    assert len(reached) == 1  # the second never entered Flask
    assert (hit.status, hit.data) == (miss.status, miss.data)
    assert _without_request_id(hit) == _without_request_id(miss)  # same headers, same order
    assert re.fullmatch(r"[0-9a-f]{32}", hit.headers["X-Request-ID"])
    assert hit.headers["X-Request-ID"] != miss.headers["X-Request-ID"]


def test_each_hit_writes_one_access_line_with_its_own_request_id(client, story, caplog):
    url = f"/articles/{story.slug}"
    with caplog.at_level(logging.INFO, logger="donations.access"):
        answers = [client.get(url) for _ in range(3)]
    lines = [r for r in caplog.records if r.name == "donations.access"]
    assert [r.request_id for r in lines] == [a.headers["X-Request-ID"] for a in answers]
    assert len({r.request_id for r in lines}) == 3
    shapes = [json.loads(JsonFormatter().format(r)) for r in lines]
    for shape in shapes:
        assert shape.pop("duration_ms") >= 0
        del shape["time"], shape["request_id"]
    assert shapes[1] == shapes[2] == shapes[0]  # the miss's line, field for field
    assert shapes[0]["route"] == "/articles/<slug>" and shapes[0]["status"] == 200


def test_behind_a_trusted_proxy_a_hit_keeps_its_request_id_and_client_address(make_app, caplog):
    app = make_app(TRUSTED_PROXIES="1")
    client = app.test_client()
    given = {"X-Request-ID": "proxy-id-12345678", "X-Forwarded-For": "203.0.113.7"}
    with caplog.at_level(logging.INFO, logger="donations.access"):
        for _ in range(2):
            answer = client.get(
                "/api/progress", headers=given, environ_base={"REMOTE_ADDR": "10.0.0.1"}
            )
            assert answer.headers["X-Request-ID"] == "proxy-id-12345678"
    assert len(app.extensions["page_cache"]) == 1
    hit = [r for r in caplog.records if r.name == "donations.access"][-1]
    assert (hit.request_id, hit.remote_addr) == ("proxy-id-12345678", "203.0.113.7")
    direct = make_app().test_client()
    for _ in range(2):
        assert (
            direct.get("/api/progress", headers=given).headers["X-Request-ID"]
            != given["X-Request-ID"]
        )


def test_hits_are_counted_in_the_request_metrics(app, client, db):
    registry = app.extensions["metrics"].registry
    labels = {"route": "/api/progress", "method": "GET", "status": "200"}
    for _ in range(3):
        client.get("/api/progress")
    client.get(
        "/api/progress", headers={"If-None-Match": client.get("/api/progress").headers["ETag"]}
    )
    assert registry.get_sample_value("donations_http_requests_total", labels) == 4
    assert (
        registry.get_sample_value("donations_http_requests_total", {**labels, "status": "304"}) == 1
    )
    timed = {"route": "/api/progress"}
    assert registry.get_sample_value("donations_http_request_duration_seconds_count", timed) == 5


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_matching_if_none_match_gets_the_304_flask_gives(client, story, reached, path):
    url = path.format(slug=story.slug)
    etag = client.head(url).headers["ETag"]  # HEAD: answered by Flask, and not kept
    by_flask = client.get(url, headers={"If-None-Match": etag})
    assert by_flask.status_code == 304 and len(reached) == 2
    # Weak comparison (RFC 9110 §13.1.2): nginx's gzip hands browsers the tag as W/"…".
    assert client.get(url, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert len(reached) == 3
    client.get(url)  # kept
    hit = client.get(url, headers={"If-None-Match": f'"other", {etag}'})
    assert len(reached) == 4
    assert (hit.status, hit.data) == (by_flask.status, b"")
    assert _without_request_id(hit) == _without_request_id(by_flask)
    weakened = client.get(url, headers={"If-None-Match": f"W/{etag}"})
    assert weakened.status_code == 304 and len(reached) == 4
    changed = client.get(url, headers={"If-None-Match": '"not-this-one"'})
    assert changed.status_code == 200 and changed.data and len(reached) == 4


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_head_is_answered_from_the_get_entry_without_a_body(client, story, reached, path):
    url = path.format(slug=story.slug)
    by_flask = client.head(url)
    client.get(url)
    hit = client.head(url)
    assert len(reached) == 2
    assert (hit.status, hit.data) == (by_flask.status, b"")
    assert _without_request_id(hit) == _without_request_id(by_flask)
    assert int(hit.headers["Content-Length"]) > 0  # the GET's length, as Flask says it


def test_a_query_string_our_cookies_or_other_conditions_go_to_flask(app, client, story, reached):
    url = f"/articles/{story.slug}"
    client.get(url)
    client.get(url + "?utm_source=x")
    client.get(url, headers={"If-Modified-Since": "Tue, 01 Dec 2026 12:00:00 GMT"})
    client.get(url, headers={"Range": "bytes=0-10"})
    for name in ("session", "remember_token"):
        client.set_cookie(name, "anything")
        client.get(url)
        client.delete_cookie(name)
    assert len(reached) == 6
    client.set_cookie("_ga", "GA1.1.123.456")  # another site's cookie: no session
    assert client.get(url).status_code == 200 and len(reached) == 6


def test_a_post_is_never_answered_nor_kept(client, db, reached):
    client.get("/api/progress")
    assert client.post("/api/progress").status_code == 405
    assert client.post("/api/progress").status_code == 405
    assert reached == ["GET /api/progress", "POST /api/progress", "POST /api/progress"]


def test_a_logged_in_reader_never_gets_a_kept_page_nor_makes_one(app, client, story, reached):
    url = f"/articles/{story.slug}"
    front = app.extensions["page_cache"]
    login(client, make_user())
    for _ in range(2):
        page = client.get(url)
        assert (
            "Log out" in page.get_data(as_text=True) and "private" in page.headers["Cache-Control"]
        )
    assert len(front) == 0
    client.post("/logout", follow_redirects=True)  # the page that shows the flash
    assert client.get_cookie("session") is None  # what is left moved to anon_session
    assert "Log in" in client.get(url).get_data(as_text=True) and len(front) == 1


def test_after_logging_out_the_message_shows_and_then_pages_are_public_again(
    app, client, story, reached
):
    url = f"/articles/{story.slug}"
    login(client, make_user())
    home = client.post("/logout", follow_redirects=True)  # the flash: Flask renders it
    assert "logged out." in home.get_data(as_text=True)
    assert "private" in home.headers["Cache-Control"]
    page = client.get(url)
    assert "Log in" in page.get_data(as_text=True) and "public" in page.headers["Cache-Control"]
    before = len(reached)
    assert client.get(url).data == page.data and len(reached) == before  # a kept copy


def test_a_reader_who_opened_a_form_still_gets_kept_public_pages(app, client, story, reached):
    url = f"/articles/{story.slug}"
    assert client.get("/login").status_code == 200  # a CSRF token goes into the session
    # ...which an anonymous reader keeps in anon_session: `session` would make nginx and the
    # page cache take them for someone we know.
    assert client.get_cookie("session") is None
    assert client.get_cookie("anon_session") is not None
    first = client.get(url)
    assert "public" in first.headers["Cache-Control"]
    before = len(reached)
    assert client.get(url).data == first.data and len(reached) == before


@pytest.mark.parametrize("name", ["session", "remember_token", "SESSION"])
def test_any_session_or_remember_cookie_makes_a_reader_we_may_know(client, story, reached, name):
    url = f"/articles/{story.slug}"
    assert "public" in client.get(url).headers["Cache-Control"]  # now kept
    for value in ("garbage", "e30.x.y"):  # e30 is {}: even an empty one, as nginx decides
        client.set_cookie(name, value)
        answer = client.get(url)
        assert "private" in answer.headers["Cache-Control"], value
    assert len(reached) == 3  # neither answered from the kept copy


def test_a_logged_in_reader_gets_the_page_from_flask(client, story, reached):
    url = f"/articles/{story.slug}"
    client.get(url)
    login(client, make_user(email="second@example.org"))
    before = len(reached)
    page = client.get(url)
    assert "Log out" in page.get_data(as_text=True) and len(reached) == before + 1


def test_a_new_member_shows_at_once_on_progress_the_widget_and_the_article(
    client, db, story, reached
):
    urls = ["/api/progress", "/embed/progress", f"/articles/{story.slug}"]
    for url in urls * 2:
        client.get(url)
    assert len(reached) == 3  # kept
    move_counter(to=1234)
    db.session.commit()
    assert client.get("/api/progress").json["members"] == 1234
    assert "<strong>1,234</strong> of 20,000 members" in client.get(urls[1]).get_data(as_text=True)
    assert "<strong>1,234</strong> of 20,000 members" in client.get(urls[2]).get_data(as_text=True)


def test_a_saved_article_shows_at_once_on_its_page_the_home_page_and_the_feed(
    client, db, story, reached
):
    urls = [f"/articles/{story.slug}", "/", "/feed.xml"]
    for url in urls * 2:
        client.get(url)
    assert len(reached) == 3  # kept
    save_article(
        ArticleData(
            slug=story.slug, title="Flood defences: the audit", body_markdown="New.", published=True
        )
    )
    db.session.commit()
    for url in urls:
        assert "Flood defences: the audit" in client.get(url).get_data(as_text=True)


def test_a_kept_page_expires_after_cache_seconds(make_app):
    app = make_app(CACHE_SECONDS=5)
    reached = _count_flask_requests(app)
    client = app.test_client()
    with time_machine.travel(T0, tick=False) as clock:
        client.get("/api/progress")
        clock.move_to(T0 + timedelta(seconds=4.9))
        client.get("/api/progress")
        assert len(reached) == 1
        clock.move_to(T0 + timedelta(seconds=5.1))
        client.get("/api/progress")
        assert len(reached) == 2


def test_a_kept_page_expires_after_its_max_age(make_app):
    app = make_app(CACHE_SECONDS=3600)  # the count stays current: only max-age ends the copy
    reached = _count_flask_requests(app)
    client = app.test_client()
    with time_machine.travel(T0, tick=False) as clock:
        max_age = int(client.get("/api/progress").headers["Cache-Control"].split("max-age=")[1][:2])
        clock.move_to(T0 + timedelta(seconds=max_age - 0.1))
        client.get("/api/progress")
        assert len(reached) == 1
        clock.move_to(T0 + timedelta(seconds=max_age + 0.1))
        client.get("/api/progress")
        assert len(reached) == 2


def test_a_page_is_kept_no_longer_than_the_numbers_it_shows(make_app):
    app = make_app(CACHE_SECONDS=5)
    reached = _count_flask_requests(app)
    client = app.test_client()
    with time_machine.travel(T0, tick=False) as clock:
        client.get("/api/progress")  # the count is read now, and current until T0 + 5 s
        clock.move_to(T0 + timedelta(seconds=3))
        app.extensions["page_cache"].clear()
        client.get("/api/progress")  # made from the count read at T0
        clock.move_to(T0 + timedelta(seconds=5.1))
        client.get("/api/progress")
    assert len(reached) == 3


def test_the_store_is_bounded_in_pages_and_in_bytes(app, client, story, reached):
    front = app.extensions["page_cache"]
    front.max_entries = 2
    for url in ("/api/progress", "/embed/progress", f"/articles/{story.slug}"):
        client.get(url)
    assert len(front) == 2
    client.get("/api/progress")  # the oldest went first
    assert len(reached) == 4
    front.clear()
    front.max_bytes = len(client.get(f"/articles/{story.slug}").data) + 100
    client.get("/embed/progress")
    assert len(front) == 1  # the widget pushed the article out
    client.get(f"/articles/{story.slug}")
    assert len(reached) == 7


def test_an_error_or_a_private_answer_is_never_kept(make_app):
    app = make_app(CACHE_SECONDS=3600)

    def public_but_failed():
        response = public_page(("failed",), lambda: "half a page")
        response.status_code = 500
        return response

    def public_with_a_cookie():
        response = public_page(("cookie",), lambda: "a page")
        response.set_cookie("seen", "1")
        return response

    app.add_url_rule("/failed-for-test", view_func=public_but_failed)
    app.add_url_rule("/cookie-for-test", view_func=public_with_a_cookie)
    reached = _count_flask_requests(app)
    paths = [
        "/failed-for-test",
        "/cookie-for-test",
        "/articles/no-such-story",
        "/support",
        "/login",
    ]
    for path in paths * 2:
        app.test_client().get(path)
    assert len(reached) == 10 and len(app.extensions["page_cache"]) == 0


def test_with_the_page_cache_off_every_request_reaches_flask(make_app):
    app = make_app(FRONT_CACHE="0")
    reached = _count_flask_requests(app)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/progress").status_code == 200
    assert len(reached) == 3 and "page_cache" not in app.extensions


def test_a_hit_cannot_skip_a_check_that_would_refuse_the_request(app, client, story, reached):
    # The body limits and the input guard look at bodies, query arguments and the path: a
    # body or a query string bypasses the page cache, and a refused path is never kept.
    url = f"/articles/{story.slug}"
    assert client.get(url).status_code == 200
    assert client.get(url + "?q=" + "x" * 300).status_code == 400
    assert client.get(url, data={"name": "a\x00b"}).status_code == 400
    assert client.get(url, data={"name": "x" * (2 * 1024 * 1024)}).status_code == 413
    assert _status(app, _chunked_get(url, b"name=a%00b")) == 400
    for _ in range(2):
        assert client.get("/articles/x%00y").status_code == 400
    assert len(reached) == 7


def _chunked_get(path: str, body: bytes) -> dict:
    """A GET with a chunked body, as gunicorn hands it on: no Content-Length."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        path=path, input_stream=io.BytesIO(body), content_type="application/x-www-form-urlencoded"
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    return environ


def _status(app, environ: dict) -> int:
    seen = []
    body = app(environ, lambda status, headers, exc_info=None: seen.append(status))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return int(seen[0][:3])


def _front(app_answer, cache: Cache, **options) -> PageCache:
    return PageCache(app_answer, cache, Metrics(), seconds=60, **options)


def _environ(path: str = "/page") -> dict:
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(path=path).get_environ()


@pytest.mark.parametrize(
    "headers",
    [
        [("Vary", "Origin")],  # the answer depends on a header we don't key on
        [("ETag", 'W/"weak"')],  # not public_page's strong ETag
        [("Content-Length", None)],  # streamed
        [("Cache-Control", "public, max-age=0")],
        [("Cache-Control", "public, no-store, max-age=60")],
    ],
)
def test_an_answer_a_shared_cache_must_not_keep_is_not_kept(headers):
    calls = []
    chosen = {"Cache-Control": "public, max-age=60", "ETag": '"e1"', "Content-Length": "4"}
    chosen.update(headers)

    def app_answer(environ, start_response):
        calls.append(1)
        environ[SHAREABLE] = ("/page", "/page")
        start_response("200 OK", [(k, v) for k, v in chosen.items() if v is not None])
        return [b"page"]

    front = _front(app_answer, Cache(seconds=60))
    for _ in range(2):
        assert b"".join(front(_environ(), lambda *a: None)) == b"page"
    assert len(calls) == 2 and len(front) == 0


def test_a_page_whose_making_a_drop_overtook_is_not_kept():
    cache = Cache(seconds=60)

    def app_answer(environ, start_response):
        cache.get("progress", lambda: 1)
        cache.delete("progress")  # another thread's commit lands while this page is made
        environ[SHAREABLE] = ("/page", "/page")
        headers = [
            ("Cache-Control", "public, max-age=60"),
            ("ETag", '"e"'),
            ("Content-Length", "4"),
        ]
        start_response("200 OK", headers)
        return [b"page"]

    front = _front(app_answer, cache)
    front(_environ(), lambda *a: None)
    assert len(front) == 0


def test_a_cookie_set_after_the_private_guard_is_neither_kept_nor_given_to_others(make_app):
    app = make_app(CACHE_SECONDS=3600)
    hooks = app.after_request_funcs[None]
    guard = next(h for h in hooks if getattr(h, "__name__", "") == "never_public_with_a_session")
    # Flask-Login's remember-me hook is registered with the extensions, before the guard that
    # turns an answer with a cookie private: after-request hooks run last-registered first,
    # so the cookie is set after the guard has looked.
    assert hooks.index(app.login_manager._update_remember_cookie) < hooks.index(guard)

    def remember_someone(response):
        if request.path == "/api/progress":
            response.set_cookie("remember_token", "someone's own")
        return response

    hooks.insert(0, remember_someone)  # runs after the guard, as Flask-Login's does
    reached = _count_flask_requests(app)
    first = app.test_client().get("/api/progress")
    assert "public" in first.headers["Cache-Control"]  # the guard did not see the cookie
    assert "someone's own" in first.headers["Set-Cookie"]
    second = app.test_client().get("/api/progress")
    assert len(reached) == 2 and len(app.extensions["page_cache"]) == 0
    assert "someone's own" in second.headers["Set-Cookie"]  # made afresh, not replayed


def test_a_session_cookie_that_names_no_reader_moves_to_anon_session(app, client, story):
    # E.g. one written before anon_session existed: its form token is kept, under the name
    # that lets the reader's next pages come from the caches.
    kept = {"csrf_token": "abc", "_fresh": False}  # as Flask-Login leaves it: nothing changes
    signed = app.session_interface.get_signing_serializer(app).dumps(kept)
    client.set_cookie("session", signed)
    client.get(f"/articles/{story.slug}")
    assert client.get_cookie("session") is None
    moved = client.get_cookie("anon_session")
    assert moved is not None
    assert app.session_interface.get_signing_serializer(app).loads(moved.value) == kept
