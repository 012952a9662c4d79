"""Articles for staff: create, edit, publish and unpublish through the articles service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from donations.articles.services import (
    ArticleData,
    ArticleError,
    get_article,
    save_article,
    validate,
)
from donations.extensions import db
from donations.models import Article

# ArticleError messages start with the name of what is wrong; map it to the form field.
FIELD_OF_MESSAGE = {"slug": "slug", "title": "title", "summary": "summary", "date": "published_at"}


class StaffArticleError(ValueError):
    """A problem with one field of the article form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ArticleInput:
    """The form's values as typed."""

    title: str
    slug: str
    summary: str
    author: str
    body_markdown: str
    published: bool
    published_at: str = ""


def parse_date(text: str) -> datetime | None:
    """An ISO 8601 date (a bare date means midnight UTC; no time zone means UTC, as the date
    picker sends it and the form says), or None if empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise StaffArticleError(
            "published_at", "Use a date like 2026-11-20 or 2026-11-20T09:30:00Z."
        ) from None
    if value.tzinfo is None:  # a bare date, or the picker's local form: UTC, as the form says
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 at +14:00 is still in year 0 in UTC
        raise StaffArticleError(
            "published_at", "Use a date between the years 1 and 9999."
        ) from None


def _data(form: ArticleInput, published_at: datetime | None) -> ArticleData:
    return ArticleData(
        slug=form.slug.strip(),
        title=form.title,
        body_markdown=form.body_markdown,
        summary=form.summary,
        author=form.author,
        published=form.published,
        published_at=published_at,
    )


def _checked(data: ArticleData) -> ArticleData:
    """Run the articles service's rules, with the message placed on its field."""
    try:
        validate(data)
    except ArticleError as exc:
        message = str(exc)
        field = FIELD_OF_MESSAGE.get(message.split(" ", 1)[0], "body_markdown")
        raise StaffArticleError(field, message[:1].upper() + message[1:] + ".") from None
    return data


def _save(data: ArticleData) -> Article:
    article, _ = save_article(_checked(data))
    return article


def _slug_owner(slug: str) -> Article | None:
    return db.session.scalar(select(Article).where(Article.slug == slug))


def create_article(form: ArticleInput) -> Article:
    """Save a new article; a slug already in use is refused rather than overwritten."""
    data = _data(form, parse_date(form.published_at))
    if _slug_owner(data.slug) is not None:
        raise StaffArticleError("slug", "Another article already uses this slug.")
    return _save(data)


def update_article(article: Article, form: ArticleInput) -> Article:
    """Save changes to an article, renaming its slug when it changed and is free."""
    data = _checked(_data(form, parse_date(form.published_at)))
    if data.slug != article.slug:
        owner = _slug_owner(data.slug)
        if owner is not None:
            raise StaffArticleError("slug", "Another article already uses this slug.")
        article.slug = data.slug
        db.session.flush()
    return _save(data)


def save_article_form(article: Article | None, form: ArticleInput) -> Article:
    """Create a new article, or update the given one, from the staff form."""
    return update_article(article, form) if article is not None else create_article(form)


def set_published(article_id: int, published: bool) -> Article | None:
    """Publish (dated now unless it has a date) or unpublish an article; None if unknown."""
    article = get_article(article_id)
    if article is None:
        return None
    return _save(
        ArticleData(
            slug=article.slug,
            title=article.title,
            body_markdown=article.body_markdown,
            summary=article.summary,
            author=article.author,
            published=published,
            published_at=article.published_at,
        )
    )
