"""Staff forms: parsing and presence only; the article rules live in the articles service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=f"Keep this under {limit:,} characters.")


class ArticleForm(FlaskForm):
    """An article as staff write it; CSRF is checked site-wide by CSRFProtect."""

    class Meta:
        csrf = False

    # The limits are the columns' (models/articles.py); the body's is the input guard's.
    title = StringField("Title", [InputRequired("Give the article a title."), _at_most(300)])
    slug = StringField(
        "Slug (its address: /articles/<slug>)", [InputRequired("Choose a slug."), _at_most(120)]
    )
    summary = TextAreaField("Summary", [_at_most(500)])
    author = StringField("Author", [_at_most(200)])
    body_markdown = TextAreaField("Body (Markdown)", [_at_most(200_000)])
    published_at = StringField("Publication date and time, UTC (optional)", [_at_most(100)])
    published = BooleanField("Published")

    def add_error(self, field: str, message: str) -> None:
        """Show a service message next to its field."""
        target = self._fields[field]
        target.errors = [*target.errors, message]
