"""Health for load balancers and uptime monitors."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for

from donations.core.health import DOWN, health
from donations.models import utcnow

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    """Per-dependency ok/degraded/down as JSON; 503 only when the site cannot serve (database)."""
    now = utcnow()
    status, checks = health(now)
    body = {
        "status": status,
        **{name: check.status for name, check in checks.items()},
        "checks": {name: {"status": c.status, **c.detail} for name, c in checks.items()},
        "time": now.isoformat(),
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 503 if status == DOWN else 200


@bp.get("/favicon.ico")
def favicon():
    """The site icon where browsers look without a <link> (feeds, JSON, the emulator's pages)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
