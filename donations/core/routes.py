"""Liveness check for load balancers and uptime monitors."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from donations.extensions import db
from donations.models import utcnow

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    """JSON liveness including a database round trip; 503 when the database is down."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    body = {
        "status": "ok" if status == 200 else "degraded",
        "database": database,
        "time": utcnow().isoformat(),
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, status


@bp.get("/favicon.ico")
def favicon():
    """The site icon where browsers look without a <link> (feeds, JSON, the emulator's pages)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
