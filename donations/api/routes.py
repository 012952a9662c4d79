"""GET /api/progress (contract JSON) and GET /embed/progress (a widget for other sites)."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, jsonify, render_template, request

from donations.membership.progress import Progress, get_progress

bp = Blueprint("api", __name__)

# Short enough that the tracker feels live, long enough that a traffic spike is served by caches.
CACHE_CONTROL = "public, max-age=15, stale-while-revalidate=60"


def _etag(progress: Progress) -> str:
    return hashlib.sha1(
        f"{progress.members}/{progress.goal}".encode(), usedforsecurity=False
    ).hexdigest()[:16]


def _cacheable(response: Response, progress: Progress) -> Response:
    response.set_etag(_etag(progress))
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.discard("Cookie")
    return response.make_conditional(request)


def progress_json(progress: Progress) -> dict:
    """The contract body of /api/progress."""
    return {
        "members": progress.members,
        "goal": progress.goal,
        "percent": progress.percent,
        "remaining": progress.remaining,
        "updated_at": progress.updated_at.isoformat().replace("+00:00", "Z"),
    }


@bp.get("/api/progress")
def progress():
    """Members, goal, percent, remaining and updated_at as JSON; ETag and 304 supported."""
    current = get_progress()
    return _cacheable(jsonify(progress_json(current)), current)


@bp.get("/embed/progress")
def embed():
    """A small self-contained progress widget for an iframe on another site."""
    current = get_progress()
    response = Response(render_template("api/embed.html", progress=current))
    return _cacheable(response, current)
