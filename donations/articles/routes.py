"""Home page, article pages and the Atom feed."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from donations.articles import services
from donations.articles.fragments import story_fragments
from donations.core.http_cache import public_page
from donations.membership.progress import get_progress
from donations.pagination import page_number

bp = Blueprint("articles", __name__)


@bp.get("/")
def home():
    """Latest published articles, paginated, with the progress tracker."""
    page = page_number(request.args)
    progress = get_progress()

    def render() -> str:
        listing = services.latest_published(page, current_app.config["ARTICLES_PER_PAGE"])
        return render_template("articles/home.html", listing=listing, progress=progress)

    shown = ("home", page, services.content_version(), progress.members, progress.goal)
    return public_page(shown, render)


@bp.get("/articles/<slug>")
def article(slug: str):
    """One published article and the support box; 404 for unknown or draft slugs."""
    progress = get_progress()
    version = services.content_version()

    def render() -> str:
        found = services.published_view(slug)
        if found is None:
            abort(404)
        fragments = story_fragments(found)
        return render_template(
            "articles/article.html", article=found, fragments=fragments, progress=progress
        )

    shown = ("article", slug, version, progress.members, progress.goal)
    return public_page(shown, render)


@bp.get("/feed.xml")
def feed():
    """Atom feed of the newest published articles."""

    def render() -> str:
        return render_template("articles/feed.xml", articles=services.feed_articles())

    shown = ("feed", services.content_version())
    return public_page(shown, render, max_age=300, mimetype="application/atom+xml")
