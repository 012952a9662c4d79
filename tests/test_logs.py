"""The app's access log: a link that works as a password until used never reaches it."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

from donations.core.logs import (
    JsonFormatter,
    RequestIdFilter,
    _direct_handler,
    access_log,
    log_access,
)

TOKEN = "eyJzZWNyZXQiOiJ0b2tlbiJ9.aGVsbG8.c2lnbmVk"


def test_the_access_log_never_holds_a_claim_or_reset_token(client, caplog):
    with caplog.at_level(logging.INFO, logger="donations.access"):
        client.get(f"/account/claim/{TOKEN}")
        client.get(f"/password/reset/{TOKEN}")
        client.get("/password/forgot")
    lines = [r for r in caplog.records if r.name == "donations.access"]
    assert [r.getMessage() for r in lines] == [
        "GET /account/claim/… 400",
        "GET /password/reset/… 400",
        "GET /password/forgot 200",
    ]
    assert all(TOKEN not in str(r.__dict__) for r in lines)


def _json_handler(stream: io.StringIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


@pytest.mark.parametrize("given_id", ["abcdef0123456789", None])
def test_an_access_line_written_directly_is_the_line_logging_writes(
    app, caplog, monkeypatch, given_id
):
    caplog.set_level(logging.INFO, logger="donations.access")
    stream = io.StringIO()
    handler = _json_handler(stream)
    monkeypatch.setattr(logging.getLogger(), "handlers", [handler])  # production's one handler
    monkeypatch.setattr(time, "time", lambda: 1765000000.1234)
    line = ("GET", "/password/reset/a-token\n", "/password/reset/<token>", 200, None, "10.0.0.1")
    with app.test_request_context("/password/reset/x", headers={"X-Request-ID": "ignored"}):
        assert _direct_handler() is handler
        log_access(*line, given_id)
        direct = stream.getvalue()
        # A filter on the way makes the line go through logging's records: the same text.
        monkeypatch.setattr(access_log, "filters", [lambda record: True])
        assert _direct_handler() is None
        log_access(*line, given_id)
    first, second = stream.getvalue().splitlines()
    assert direct == first + "\n" and first == second
    assert json.loads(first)["message"] == "GET /password/reset/…\\n 200"
    assert "a-token" not in first


def test_access_lines_go_through_logging_when_other_handlers_listen(app, caplog):
    assert _direct_handler() is None  # pytest's capture is on the root: records, as before
    with caplog.at_level(logging.INFO, logger="donations.access"):
        app.test_client().get("/password/forgot")
    assert [r.getMessage() for r in caplog.records if r.name == "donations.access"] == [
        "GET /password/forgot 200"
    ]
