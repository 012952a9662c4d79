"""Home page, article pages and the Atom feed."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, make_response, render_template, request

from donations.articles import services
from donations.core.inputs import page_arg
from donations.membership.progress import get_progress
from donations.pagination import MAX_PAGE

bp = Blueprint("articles", __name__)


@bp.get("/")
def home():
    """Latest published articles, paginated, with the progress tracker."""
    page = page_arg(request.args, MAX_PAGE)
    listing = services.latest_published(page, current_app.config["ARTICLES_PER_PAGE"])
    return render_template("articles/home.html", listing=listing, progress=get_progress())


@bp.get("/articles/<slug>")
def article(slug: str):
    """One published article and the support box; 404 for unknown or draft slugs."""
    found = services.get_published(slug)
    if found is None:
        abort(404)
    return render_template("articles/article.html", article=found, progress=get_progress())


@bp.get("/feed.xml")
def feed():
    """Atom feed of the newest published articles."""
    body = render_template("articles/feed.xml", articles=services.feed_articles())
    response = make_response(body)
    response.mimetype = "application/atom+xml"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
