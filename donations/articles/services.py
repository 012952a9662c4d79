"""Article queries and writes; no request code here."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import defer

from donations.articles.rendering import render_markdown
from donations.core.cache import get_cache, invalidate_on_commit
from donations.extensions import db
from donations.models import Article, utcnow
from donations.pagination import paginate

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
VERSION_KEY = "articles"


class ArticleError(ValueError):
    """Article data that cannot be saved; the message says which field and why."""


@dataclass(frozen=True)
class ArticleData:
    """The fields of an article as an author provides them."""

    slug: str
    title: str
    body_markdown: str
    summary: str = ""
    author: str = ""
    published: bool = False
    published_at: datetime | None = None


def _published():
    return select(Article).where(Article.published.is_(True))


def latest_published(page: int, per_page: int) -> Pagination:
    """Return one page of published articles, newest first."""
    return paginate(
        _published()
        # Teasers need neither body: don't pull ~25 KB per article off the database.
        .options(defer(Article.body_markdown), defer(Article.body_html))
        .order_by(Article.published_at.desc(), Article.id.desc()),
        page,
        per_page,
    )


@dataclass(frozen=True)
class ArticleView:
    """A published article as its page shows it (no ORM object: it outlives the request)."""

    slug: str
    title: str
    summary: str
    author: str
    body_html: str
    published_at: datetime | None


_PAGE_COLUMNS = (
    Article.slug,
    Article.title,
    Article.summary,
    Article.author,
    Article.body_html,
    Article.published_at,
)
_BY_SLUG = select(*_PAGE_COLUMNS).where(
    Article.published.is_(True), Article.slug == bindparam("slug")
)
VIEWS_KEPT = 256
_views_lock = threading.Lock()


def published_view(slug: str) -> ArticleView | None:
    """The published article with this slug as of `content_version()`, or None.

    Kept per process under the version: an article changes only through `save_article`,
    which moves the version, so a kept one is the row as it is now. Read on a connection of
    its own, like the version: the request's session stays unused (membership.view).
    """
    key = (slug, content_version())
    views: OrderedDict[tuple[str, str], ArticleView | None] = current_app.extensions.setdefault(
        "article_views", OrderedDict()
    )
    with _views_lock:
        if key in views:
            views.move_to_end(key)
            return views[key]
    with db.engine.connect() as conn:
        row = conn.execute(_BY_SLUG, {"slug": slug}).first()
    view = ArticleView(*row) if row is not None else None
    with _views_lock:
        views[key] = view
        while len(views) > VIEWS_KEPT:
            views.popitem(last=False)
    return view


def feed_articles(limit: int = 30) -> list[Article]:
    """Return the newest published articles for the Atom feed."""
    return list(
        db.session.scalars(
            _published().order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)
        )
    )


def content_version() -> str:
    """A name for the articles as they are now; any save changes it (cached, see core.cache)."""
    return get_cache().get(VERSION_KEY, _read_version)


def _read_version() -> str:
    # Count and newest edit: a save, a publish, an unpublish or a new article all move it.
    with db.engine.connect() as conn:
        count, newest = conn.execute(select(func.count(), func.max(Article.updated_at))).one()
    return f"{count}:{newest.isoformat() if newest else ''}"


def validate(data: ArticleData) -> None:
    """Raise ArticleError when the data cannot make a valid article."""
    if not SLUG_RE.match(data.slug or "") or len(data.slug) > 120:
        raise ArticleError(
            "slug must be lowercase letters, digits and single hyphens (at most 120 characters)"
        )
    if not (data.title or "").strip():
        raise ArticleError("title is required")
    if len(data.title) > 300:
        raise ArticleError("title must be at most 300 characters")
    if len(data.summary or "") > 500:
        raise ArticleError("summary must be at most 500 characters")
    if data.published_at is not None and data.published_at.tzinfo is None:
        raise ArticleError("date must include a time zone (for example 2026-11-20T09:30:00Z)")


def save_article(data: ArticleData) -> tuple[Article, bool]:
    """Create or update the article with this slug; return it and whether it is new."""
    validate(data)
    article = db.session.scalar(select(Article).where(Article.slug == data.slug))
    created = article is None
    if article is None:
        article = Article(slug=data.slug)
        db.session.add(article)
    article.title = data.title.strip()
    article.summary = (data.summary or "").strip()
    article.author = (data.author or "").strip()
    if article.body_markdown != data.body_markdown or not article.body_html:
        article.body_markdown = data.body_markdown
        article.body_html = render_markdown(data.body_markdown)
    article.published = data.published
    if data.published_at is not None:
        article.published_at = data.published_at
    elif data.published and article.published_at is None:
        article.published_at = utcnow()
    db.session.flush()
    # Every cached page that shows articles names this version: they go when this commits.
    invalidate_on_commit(db.session(), VERSION_KEY)
    return article, created


def all_articles(page: int, per_page: int) -> Pagination:
    """Return one page of every article, drafts included, newest edit first (for staff)."""
    return paginate(
        select(Article)
        .options(defer(Article.body_markdown), defer(Article.body_html))
        .order_by(Article.updated_at.desc(), Article.id.desc()),
        page,
        per_page,
    )


def get_article(article_id: int) -> Article | None:
    """Return any article (published or draft) by id, for staff."""
    return db.session.get(Article, article_id)
