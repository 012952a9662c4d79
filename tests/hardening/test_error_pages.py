"""One error page per status in the site's layout; request ids in logs and on the 500 page."""

from __future__ import annotations

import json
import logging
import re

import pytest
from werkzeug.exceptions import ServiceUnavailable

from donations.core.logs import JsonFormatter, RequestIdFilter
from tests.factories import login, make_user


@pytest.fixture
def broken_app(app):
    """The app, with routes that fail on purpose."""

    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("kaboom: SELECT secret FROM somewhere")

    @app.get("/unavailable-for-test")
    def unavailable():
        raise ServiceUnavailable("Payments are unreachable.")

    return app


def _title(html: str) -> str:
    return re.search(r"<title>([^<]*)</title>", html).group(1)


CASES = {
    400: ("GET", "/support/thanks?session_id=%00", "We couldn't use what was sent (400)"),
    404: ("GET", "/articles/no-such-story", "We can't find that page (404)"),
    405: ("GET", "/logout", "That page can't be used this way (405)"),
    413: ("POST", "/signup", "That was too much to send (413)"),
    500: ("GET", "/boom-for-test", "Something went wrong on our side (500)"),
    503: ("GET", "/unavailable-for-test", "We can't do that right now (503)"),
}


@pytest.mark.parametrize("code", CASES, ids=str)
def test_each_error_has_its_own_page_in_the_site_layout(broken_app, client, db, code, caplog):
    method, path, title = CASES[code]
    data = {"email": "x" * (2 * 1024 * 1024)} if code == 413 else None
    with caplog.at_level(logging.INFO):
        response = client.open(path, method=method, data=data)
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert _title(html).startswith(title)
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert re.search(r'<h1 id="error-heading" tabindex="-1" autofocus>', html)


def test_the_403_and_429_pages_name_their_error(client, db):
    login(client, make_user())
    assert _title(client.get("/staff/").get_data(as_text=True)).startswith(
        "You don't have access to this page (403)"
    )
    client.post("/logout")
    for _ in range(6):
        response = client.post("/login", data={"email": "t@example.org", "password": "guess"})
    assert response.status_code == 429
    assert _title(response.get_data(as_text=True)).startswith("Too many attempts (429)")
    assert "Retry-After" in response.headers


def test_the_500_page_shows_the_request_id_that_every_log_line_carries(broken_app, client, caplog):
    with caplog.at_level(logging.INFO):
        response = client.get("/boom-for-test")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    html = response.get_data(as_text=True)
    assert f"<code>{request_id}</code>" in html
    assert "SELECT secret" not in html
    ours = [r for r in caplog.records if r.name.startswith("donations")]
    assert {r.request_id for r in ours} == {request_id}
    assert any(r.levelno == logging.ERROR for r in ours)  # the traceback, with the id


def test_json_errors_carry_the_request_id(client, db):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["request_id"] == response.headers["X-Request-ID"]


def test_a_request_id_from_a_trusted_proxy_is_kept_and_otherwise_replaced(make_app):
    given = {"X-Request-ID": "proxy-id-12345678"}
    behind = make_app(TRUSTED_PROXIES="1").test_client().get("/healthz", headers=given)
    assert behind.headers["X-Request-ID"] == "proxy-id-12345678"
    direct = make_app().test_client().get("/healthz", headers=given)
    assert direct.headers["X-Request-ID"] != "proxy-id-12345678"


def test_log_lines_are_json_with_the_request_id(app):
    record = logging.LogRecord(
        "donations.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None
    )
    with app.test_request_context("/"):
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello you"
    assert line["level"] == "WARNING"
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])


def test_a_path_cannot_forge_a_line_of_the_access_log(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="donations.access"):
        client.get("/articles/x%0d%0a2026-12-01%20FAKE%20LOG%20LINE%00")
    [line] = [r.getMessage() for r in caplog.records if r.name == "donations.access"]
    assert "\n" not in line and "\r" not in line and "\x00" not in line
    assert line.startswith("GET /articles/x\\r\\n2026-12-01 FAKE LOG LINE\\x00 ")
