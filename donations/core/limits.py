"""Limits before work: request bodies are capped while they are read, also when chunked.

Werkzeug enforces MAX_CONTENT_LENGTH on a declared Content-Length, but a chunked body (no
Content-Length) is only cut off at the limit, silently: the form parser would then see a
truncated body. Here such a body is read up to one byte past the limit, first of all (before
rate limiting reads the form), and anything longer is a 413. A body the server cannot
de-chunk (a bad chunk size, a missing terminator: gunicorn's InvalidChunkSize, Werkzeug's
OSError) is the client's mistake: a 400, never a 500 with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

log = logging.getLogger(__name__)

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

View = TypeVar("View", bound=Callable[..., Any])


def body_limit(limit: int) -> Callable[[View], View]:
    """Give a view a stricter body limit than MAX_CONTENT_LENGTH (used while reading)."""

    def mark(view: View) -> View:
        view.body_limit = limit  # type: ignore[attr-defined]
        return view

    return mark


def _limit_for_request() -> int:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "body_limit", None) or current_app.config["MAX_CONTENT_LENGTH"]


def read_capped_body(limit: int | None = None) -> bytes:
    """The request body, read to at most `limit` + 1 bytes; 413 when it is longer."""
    limit = limit if limit is not None else _limit_for_request()
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    # A declared length is checked against max_content_length when the stream opens; a
    # streamed body is cut one byte past the limit, so that "longer" can be seen.
    request.max_content_length = limit + 1
    try:
        data = request.get_data(cache=True)
    except HTTPException:
        raise
    except Exception as exc:
        # Each server names a broken chunked body its own way; none of them is our bug.
        log.info("unreadable request body: %s: %s", type(exc).__name__, exc)
        raise BadRequest("The request body could not be read.") from None
    if len(data) > limit:
        raise RequestEntityTooLarge()
    return data


def cap_streamed_body() -> None:
    """Before-request hook: a streamed (chunked) body is read to its limit before anything
    else looks at it (rate-limit keys read the form)."""
    this = request._get_current_object()  # type: ignore[attr-defined]
    streamed = this.content_length is None and "wsgi.input_terminated" in this.environ
    if streamed and this.method in BODY_METHODS:
        read_capped_body()
