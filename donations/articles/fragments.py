"""An article page's markup that is the same for every reader, rendered once per version.

Not a page cache: a reader's page is still made for them on every request (navigation,
messages, the support box, the form's token); only the article's own markup (the head's meta
tags, the header and the body) is kept, per process, under the same key as the article's data
(the `ArticleView` that `services.published_view` keeps per slug and `content_version()`),
so a save shows at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, get_template_attribute
from markupsafe import Markup

from donations.articles.services import VIEWS_KEPT, ArticleView

TEMPLATE = "articles/_story.html"
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class StoryFragments:
    """The head's meta tags and the article's header and body, as markup."""

    meta: Markup
    story: Markup


def story_fragments(article: ArticleView) -> StoryFragments:
    """The fragments of `article` (rendered on first use of this version of it)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.jinja_env.auto_reload:  # development: a template edit shows on the next request
        return _render(article)
    # The view itself is the key: services.published_view makes a new one for each version.
    key = article
    kept: OrderedDict[ArticleView, StoryFragments] = app.extensions.setdefault(
        "article_fragments", OrderedDict()
    )
    with _lock:
        found = kept.get(key)
        if found is not None:
            kept.move_to_end(key)
            return found
    made = _render(article)
    with _lock:
        kept[key] = made
        while len(kept) > VIEWS_KEPT:
            kept.popitem(last=False)
    return made


def _render(article: ArticleView) -> StoryFragments:
    meta = get_template_attribute(TEMPLATE, "meta")
    story = get_template_attribute(TEMPLATE, "story")
    # A macro of an autoescaped (.html) template gives Markup, escaped as it was rendered.
    return StoryFragments(meta=meta(article), story=story(article))
