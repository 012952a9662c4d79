"""Friendly error pages for people, JSON errors for API clients."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from donations.extensions import db

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/stripe/")) or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def _render(error: HTTPException):
    if _wants_json():
        return jsonify(error={"status": error.code, "message": error.description}), error.code
    template = f"errors/{error.code}.html" if error.code in (403, 404, 429) else "errors/error.html"
    return render_template(template, error=error), error.code


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers for HTTP errors and unexpected exceptions."""

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        return _render(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # Anything that escaped a view: roll back so the session is usable, log, answer 500.
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(InternalServerError())
