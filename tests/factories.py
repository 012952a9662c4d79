"""Row factories: build valid rows with sensible defaults, override what a test cares about."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from donations.articles.services import ArticleData, save_article
from donations.extensions import db
from donations.models import Article

_counter = itertools.count(1)


def make_article(**fields: Any) -> Article:
    """Save an article through the real service (so its HTML is rendered and sanitised)."""
    n = next(_counter)
    data = {
        "slug": f"story-{n}",
        "title": f"Story number {n}",
        "summary": f"Summary of story {n}.",
        "author": "Ada Reporter",
        "body_markdown": f"## Heading {n}\n\nA paragraph of story {n}.\n",
        "published": True,
        "published_at": datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=n),
    }
    data.update(fields)
    article, _ = save_article(ArticleData(**data))
    db.session.commit()
    return article
