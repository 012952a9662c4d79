"""Staff forms: parsing and presence only; the article rules live in the articles service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired


class ArticleForm(FlaskForm):
    """An article as staff write it; CSRF is checked site-wide by CSRFProtect."""

    class Meta:
        csrf = False

    title = StringField("Title", [InputRequired("Give the article a title.")])
    slug = StringField("Slug (its address: /articles/<slug>)", [InputRequired("Choose a slug.")])
    summary = TextAreaField("Summary")
    author = StringField("Author")
    body_markdown = TextAreaField("Body (Markdown)")
    published_at = StringField("Publication date and time, UTC (optional)")
    published = BooleanField("Published")

    def add_error(self, field: str, message: str) -> None:
        """Show a service message next to its field."""
        target = self._fields[field]
        target.errors = [*target.errors, message]
