"""A logged-in reader's article page, made for them on every request: what each request may
reuse (the article's own markup, a verified cookie, a signed token, a built link) never shows
something older than the data, nor outlives its validity."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

from flask import g, has_app_context

from donations.articles.services import ArticleData, save_article
from donations.core import sessions as reader_sessions
from tests.factories import login, make_article, make_membership, make_user


def _page(client, path: str, **kwargs) -> str:
    # A new request in production starts without the user Flask-Login kept in `g`.
    if has_app_context():
        g.pop("_login_user", None)
    response = client.get(path, **kwargs)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _member_client(app, client):
    member = make_user("member@example.org")
    make_membership(member)
    login(client, member)
    return client


def test_an_article_edit_shows_at_once_to_a_logged_in_member(app, client, db):
    article = make_article(title="First title", body_markdown="The first body.")
    path = f"/articles/{article.slug}"
    _member_client(app, client)
    before = _page(client, path)
    assert "<h1>First title</h1>" in before and "The first body." in before
    assert "Thank you for being a member" in before

    save_article(
        ArticleData(
            slug=article.slug,
            title="Second title",
            summary="A new summary.",
            author=article.author,
            body_markdown="The second body.",
            published=True,
            published_at=article.published_at,
        )
    )
    db.session.commit()
    after = _page(client, path)
    assert "<h1>Second title</h1>" in after and "The second body." in after
    assert '<meta property="og:title" content="Second title">' in after
    assert "First title" not in after and "The first body." not in after
    assert "Thank you for being a member" in after and "Log out" in after


def test_the_article_markup_is_the_same_for_a_member_and_an_anonymous_reader(app, db):
    article = make_article(title="Bridges & budgets")
    path = f"/articles/{article.slug}"
    anonymous = _page(app.test_client(), path)
    member = _page(_member_client(app, app.test_client()), path)

    def own(page: str) -> tuple[str, str]:
        meta = page[page.index('<meta property="og:type"') : page.index("</head>")]
        story = page[page.index('<article class="story">') :]
        return meta, story[: story.index("<footer>")]

    assert own(member) == own(anonymous)
    assert "<h1>Bridges &amp; budgets</h1>" in own(member)[1]


def test_a_kept_session_cookie_is_refused_once_older_than_the_session_lifetime(
    app, client, db, monkeypatch
):
    article = make_article()
    path = f"/articles/{article.slug}"
    _member_client(app, client)
    assert "Log out" in _page(client, path)
    assert "Log out" in _page(client, path)  # the same cookie again: its content was kept
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 60
    monkeypatch.setattr(reader_sessions, "time", SimpleNamespace(time=lambda: later))
    page = _page(client, path)
    assert "Log out" not in page and "Log in" in page


def test_a_session_cookie_signed_with_another_key_is_refused_after_one_was_kept(app, client, db):
    article = make_article()
    path = f"/articles/{article.slug}"
    _member_client(app, client)
    assert "Log out" in _page(client, path)
    assert "Log out" in _page(client, path)  # the same cookie again: its content was kept
    app.secret_key = "another secret key, after a rotation without fallbacks"
    page = _page(client, path)
    assert "Log out" not in page and "Log in" in page


def test_a_reused_csrf_token_is_accepted_and_belongs_to_its_own_session(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        path = f"/articles/{make_article().slug}"
        make_user("one@example.org")
        make_user("two@example.org")
    tokens = {}
    for email in ("one@example.org", "two@example.org"):
        client = app.test_client()
        login(client, email)
        first, second = (_token(_page(client, path)) for _ in range(2))
        assert first == second  # signed once, reused within the minute
        tokens[email] = first
        assert client.post("/logout", data={"csrf_token": first}).status_code == 302
    assert tokens["one@example.org"] != tokens["two@example.org"]


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_links_follow_the_script_root_of_each_request(app, client, db):
    article = make_article()
    path = f"/articles/{article.slug}"
    assert 'href="/account"' not in _page(client, path)  # links built at the site's root
    assert 'href="/login"' in _page(client, path)
    mounted = _page(client, path, environ_overrides={"SCRIPT_NAME": "/news"})
    assert 'href="/news/login"' in mounted and 'href="/login"' not in mounted
    assert 'href="/login"' in _page(client, path)
