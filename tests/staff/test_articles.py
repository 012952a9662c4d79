"""Articles for staff: write with a preview, errors next to fields, edit, publish, unpublish."""

from __future__ import annotations

from sqlalchemy import select

from donations.extensions import db
from donations.models import Article
from tests.factories import make_article

FORM = {
    "title": "Council budget, line by line",
    "slug": "council-budget",
    "author": "Ada Reporter",
    "summary": "Where the money goes.",
    "body_markdown": "## What we found\n\nThe **budget** <script>alert(1)</script> grew.",
    "published_at": "",
}


def test_staff_write_a_draft_and_it_stays_off_the_site(staff_client, client):
    response = staff_client.post("/staff/articles/new", data={**FORM, "action": "save"})
    assert response.status_code == 302
    article = db.session.scalar(select(Article))
    assert (article.slug, article.published) == ("council-budget", False)
    # Sanitised the same way as imported articles: headings kept, scripts gone.
    assert "<h2>What we found</h2>" in article.body_html and "<script>" not in article.body_html
    assert client.get("/articles/council-budget").status_code == 404
    listing = staff_client.get("/staff/articles").get_data(as_text=True)
    assert "Council budget, line by line" in listing and "draft" in listing


def test_preview_shows_sanitised_html_and_keeps_the_values_without_saving(staff_client):
    response = staff_client.post("/staff/articles/new", data={**FORM, "action": "preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h2>What we found</h2>" in html and "<strong>budget</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert 'value="council-budget"' in html and "## What we found" in html
    assert db.session.scalar(select(Article)) is None


def test_errors_show_next_to_their_fields_and_values_are_kept(staff_client):
    bad = {**FORM, "title": "", "slug": "Not A Slug", "action": "save"}
    response = staff_client.post("/staff/articles/new", data=bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="title-error"' in html and "Give the article a title." in html
    assert 'value="Not A Slug"' in html and "Where the money goes." in html
    fixed = {**FORM, "slug": "Not A Slug", "action": "save"}
    html = staff_client.post("/staff/articles/new", data=fixed).get_data(as_text=True)
    assert 'id="slug-error"' in html and "Slug must be lowercase letters" in html
    dated = {**FORM, "published_at": "20 November", "action": "save"}
    html = staff_client.post("/staff/articles/new", data=dated).get_data(as_text=True)
    assert 'id="published_at-error"' in html
    assert db.session.scalar(select(Article)) is None


def test_a_slug_in_use_is_refused_not_overwritten(staff_client):
    existing = make_article(slug="council-budget", title="Older story")
    response = staff_client.post("/staff/articles/new", data={**FORM, "action": "save"})
    assert response.status_code == 400
    assert "Another article already uses this slug." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Article, existing.id).title == "Older story"


def test_staff_edit_an_article_and_rename_its_slug(staff_client, client):
    article = make_article(slug="old-slug", title="Old title")
    form = staff_client.get(f"/staff/articles/{article.id}").get_data(as_text=True)
    assert 'value="Old title"' in form and 'value="old-slug"' in form
    data = {**FORM, "slug": "new-slug", "published": "y", "action": "save"}
    assert staff_client.post(f"/staff/articles/{article.id}", data=data).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Article, article.id)
    assert (saved.slug, saved.title, saved.published) == ("new-slug", FORM["title"], True)
    assert client.get("/articles/new-slug").status_code == 200
    assert db.session.query(Article).count() == 1


def test_staff_publish_and_unpublish(staff_client, client):
    article = make_article(slug="to-publish", published=False, published_at=None)
    assert client.get("/articles/to-publish").status_code == 404
    staff_client.post(f"/staff/articles/{article.id}/publish")
    assert client.get("/articles/to-publish").status_code == 200
    db.session.expire_all()
    assert db.session.get(Article, article.id).published_at is not None
    response = staff_client.post(f"/staff/articles/{article.id}/unpublish", follow_redirects=True)
    assert "is a draft now" in response.get_data(as_text=True)
    assert client.get("/articles/to-publish").status_code == 404
    assert staff_client.post("/staff/articles/9999/publish").status_code == 404


def test_preview_warns_that_raw_html_shows_as_text(staff_client):
    html = staff_client.post(
        "/staff/articles/new",
        data={**FORM, "body_markdown": "Hello <b>there</b>", "action": "preview"},
    ).get_data(as_text=True)
    assert "The text contains HTML tags" in html and "&lt;b&gt;there&lt;/b&gt;" in html
    plain = staff_client.post(
        "/staff/articles/new",
        data={**FORM, "body_markdown": "2 < 3 and 5 > 4", "action": "preview"},
    ).get_data(as_text=True)
    assert "The text contains HTML tags" not in plain
