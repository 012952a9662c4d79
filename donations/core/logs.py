"""Structured logs: one JSON object a line, each with the request id of the request it is about.

The request id comes from a trusted proxy's X-Request-ID (when TRUSTED_PROXIES is set and the
value looks like an id), else it is made here; it goes back in the X-Request-ID header and on
the 500 page, so that a reader can quote it and we can find every line of that request.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, request
from flask.globals import _cv_request

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# Extra fields a log call may pass (extra={...}) that the JSON line keeps.
EXTRA_FIELDS = ("method", "path", "route", "status", "duration_ms", "remote_addr")

access_log = logging.getLogger("donations.access")
REQUEST_ID_KEY = "donations.request_id"  # in the WSGI environ: one dict lookup away
_JSON = json.JSONEncoder(default=str)  # json.dumps(..., default=str) builds one per call


def new_request_id(given: str, trusted_proxies: int) -> str:
    """A trusted proxy's X-Request-ID when it looks like an id, else a new one."""
    trusted = trusted_proxies > 0 and REQUEST_ID_RE.match(given)
    return given if trusted else uuid.uuid4().hex


def request_id() -> str:
    """This request's id (made on first use); "-" outside a request."""
    ctx = _cv_request.get(None)
    if ctx is None:
        return "-"
    environ = ctx.request.environ
    found = environ.get(REQUEST_ID_KEY)
    if found is None:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        found = environ[REQUEST_ID_KEY] = new_request_id(given, ctx.app.config["TRUSTED_PROXIES"])
    return found


class RequestIdFilter(logging.Filter):
    """Give every record the request id of the request being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach request_id unless the line names its own; never drops a record."""
        # A line written outside Flask's request context about a request (the front
        # cache's access lines) carries that request's id already.
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        """time, level, logger, message, request_id, the known extras, and any traceback."""
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _JSON.encode(line)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure_logging(app: Flask) -> None:
    """One handler on the root logger (unless one exists): JSON lines, or text for people."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        json_lines = app.config["LOG_FORMAT"] == "json"
        handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
        root.setLevel(logging.DEBUG if app.debug else logging.INFO)
    # Handlers that others installed (pytest's, gunicorn's) get the request id too.
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())


def start_request() -> None:
    """Before-request hook (first of all): the request's id and its start time."""
    g.log_started = time.perf_counter()
    request_id()


def _printable(text: str) -> str:
    # A path is the client's text: "%0d%0a" in it would forge a line of a text log, and a NUL
    # makes the file binary to grep. Control characters are written as escapes instead.
    if text.isprintable():  # nearly always: one C call instead of a loop per character
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


# Links that act as a password until used (claim and reset tokens) never reach a log file:
# whoever reads the logs could use one before its owner does.
_SECRET_PATH = re.compile(r"^(/account/claim/|/password/reset/)[^/?#\s]+")


def redact_path(path: str) -> str:
    """The path with a token that works as a password replaced by `…`."""
    return _SECRET_PATH.sub(r"\1…", path)


def log_access(
    method: str,
    path: str,
    route: str | None,
    status: int,
    started: float | None,
    remote_addr: str | None,
    request_id: str | None = None,
) -> None:
    """Write the access line of one answer: Flask's, or the page cache's (with request_id)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    path = redact_path(path)
    extra = {
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "remote_addr": remote_addr,
    }
    if request_id is not None:  # the request's own: RequestIdFilter need not look it up
        extra["request_id"] = request_id
    handler = _direct_handler()
    if handler is not None and _write_directly(handler, method, path, status, extra):
        return
    access_log.info("%s %s %s", method, _printable(path), status, extra=extra)


def _direct_handler() -> logging.StreamHandler | None:
    """The root's JSON handler when it is the only place an access line goes (production),
    else None (pytest's capture, gunicorn's or anyone's handlers and filters: logging does it)."""
    logger: logging.Logger | None = access_log
    while logger is not None and logger.parent is not None:  # up to the root
        if logger.filters or logger.handlers or not logger.propagate:
            return None
        logger = logger.parent
    handlers = logging.getLogger().handlers
    if logger is None or logger.filters or len(handlers) != 1:
        return None
    handler = handlers[0]
    if (
        type(handler) is not logging.StreamHandler
        or type(handler.formatter) is not JsonFormatter
        or handler.level > logging.INFO
        or len(handler.filters) != 1
        or type(handler.filters[0]) is not RequestIdFilter
    ):
        return None
    return handler


def _write_directly(
    handler: logging.StreamHandler, method: str, path: str, status: int, extra: dict
) -> bool:
    """The access line JsonFormatter would write for this record, without making the record
    (its caller lookup, thread and process names cost more than the line); False on error."""
    now = time.time()  # as LogRecord.created
    line = {
        "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
        "level": "INFO",
        "logger": access_log.name,
        "message": f"{method} {_printable(path)} {status}",
        "request_id": extra.get("request_id") or request_id(),  # as RequestIdFilter
    }
    for name in EXTRA_FIELDS:
        line[name] = extra[name]
    try:
        with handler.lock:  # type: ignore[union-attr]
            handler.stream.write(_JSON.encode(line) + handler.terminator)
            handler.flush()
    except Exception:  # logging's own path tries again and reports it (handleError)
        return False
    return True


def log_request(response: Response) -> Response:
    """After-request hook: the X-Request-ID header and the access line."""
    this = request._get_current_object()  # type: ignore[attr-defined]
    given = request_id()
    response.headers["X-Request-ID"] = given
    route = this.url_rule.rule if this.url_rule is not None else None
    started = g.get("log_started")
    status = response.status_code
    log_access(this.method, this.path, route, status, started, this.remote_addr, given)
    return response
