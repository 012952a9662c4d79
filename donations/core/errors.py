"""Error pages for people (one per status, in the site's layout), JSON errors for API clients."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from donations.core.logs import request_id
from donations.extensions import db

log = logging.getLogger(__name__)

# Statuses with their own page (templates/errors/<code>.html); others use errors/error.html.
ERROR_PAGES = frozenset({400, 403, 404, 405, 413, 429, 500, 503})


def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/stripe/")) or request.path in ("/healthz", "/metrics"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def render_error(error: HTTPException):
    """The error as JSON or as its page, with its status (and headers, e.g. Retry-After)."""
    code = error.code or 500
    if _wants_json():
        body = {"status": code, "message": error.description, "request_id": request_id()}
        response = jsonify(error=body)
    else:
        template = f"errors/{code}.html" if code in ERROR_PAGES else "errors/error.html"
        response = render_template(template, error=error, request_id=request_id())
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return response, code, headers


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers for HTTP errors and unexpected exceptions."""

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        return render_error(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # Anything that escaped a view: roll back so the session is usable, log, answer 500.
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(InternalServerError())
