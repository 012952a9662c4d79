"""GET /api/progress (contract JSON) and GET /embed/progress (a widget for other sites)."""

from __future__ import annotations

import json

from flask import Blueprint, render_template

from donations.core.http_cache import public_page
from donations.membership.progress import Progress, get_progress

bp = Blueprint("api", __name__)


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
    shown = ("progress", current.members, current.goal, current.updated_at)
    response = public_page(
        shown,
        lambda: json.dumps(progress_json(current), separators=(",", ":"), sort_keys=True),
        mimetype="application/json",
        personal=False,
    )
    # Other sites' pages read it from the browser; no cookie is involved.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/embed/progress")
def embed():
    """A small self-contained progress widget for an iframe on another site."""
    current = get_progress()
    shown = ("embed", current.members, current.goal)
    render = lambda: render_template("api/embed.html", progress=current)  # noqa: E731
    return public_page(shown, render, personal=False)
