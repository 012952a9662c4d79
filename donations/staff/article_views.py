"""Staff article pages: list, write with a preview, edit, publish and unpublish.

The views are attached to the staff blueprint in `staff/routes.py`, where it is built.
"""

from __future__ import annotations

from datetime import UTC

from flask import abort, flash, redirect, render_template, request, url_for

from donations.articles.rendering import has_raw_html, render_markdown
from donations.articles.services import all_articles, get_article
from donations.extensions import db
from donations.models import Article
from donations.pagination import page_number
from donations.staff.articles import (
    ArticleInput,
    StaffArticleError,
    save_article_form,
    set_published,
)
from donations.staff.forms import ArticleForm
from donations.staff.guard import staff_required

PER_PAGE = 30


def _input(form: ArticleForm) -> ArticleInput:
    return ArticleInput(
        title=form.title.data or "",
        slug=form.slug.data or "",
        summary=form.summary.data or "",
        author=form.author.data or "",
        body_markdown=form.body_markdown.data or "",
        published=bool(form.published.data),
        published_at=form.published_at.data or "",
    )


def _form_page(form: ArticleForm, article: Article | None):
    """Validate and save, or show the form again (with a preview when asked for one)."""
    preview = None
    if request.method == "POST" and request.form.get("action") == "preview":
        preview = render_markdown(form.body_markdown.data or "")
    elif form.validate_on_submit():
        try:
            saved = save_article_form(article, _input(form))
        except StaffArticleError as exc:
            db.session.rollback()
            form.add_error(exc.field, str(exc))
        else:
            db.session.commit()
            flash(f"Saved “{saved.title}”.", "success")
            return redirect(url_for("staff.edit_article", article_id=saved.id))
    page = render_template(
        "staff/article_form.html",
        form=form,
        article=article,
        preview=preview,
        # Raw HTML is escaped, so readers would see the tags as text: say so before they do.
        raw_html=preview is not None and has_raw_html(form.body_markdown.data or ""),
    )
    return page, 400 if form.errors else 200


@staff_required
def articles():
    """Every article, drafts included, most recently edited first."""
    listing = all_articles(page_number(request.args), PER_PAGE)
    return render_template("staff/articles.html", listing=listing)


@staff_required
def new_article():
    """Write a new article in Markdown, preview it, save it as a draft or published."""
    return _form_page(ArticleForm(), None)


@staff_required
def edit_article(article_id: int):
    """Edit an article; the preview shows the sanitised HTML readers will get."""
    article = get_article(article_id)
    if article is None:
        abort(404)
    form = ArticleForm(obj=article) if request.method == "GET" else ArticleForm()
    if request.method == "GET" and article.published_at:
        # As the date picker (datetime-local, in UTC) shows and sends it.
        form.published_at.data = article.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return _form_page(form, article)


@staff_required
def publish_article(article_id: int):
    """Publish an article now (or at its set date)."""
    return _toggle(article_id, True)


@staff_required
def unpublish_article(article_id: int):
    """Take an article off the site; it stays as a draft."""
    return _toggle(article_id, False)


def _toggle(article_id: int, published: bool):
    article = set_published(article_id, published)
    if article is None:
        abort(404)
    db.session.commit()
    flash(f"“{article.title}” is {'published' if published else 'a draft now'}.", "success")
    return redirect(url_for("staff.articles"))
