"""A chunked body the server cannot de-chunk is the client's mistake: a 400 on every route that
takes a body (never a 500 with a traceback), nothing stored, nothing logged at ERROR."""

from __future__ import annotations

import io
import logging
import re

import pytest
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkSize, NoMoreData
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from donations.extensions import db as _db
from tests.factories import login, make_user
from tests.hardening.served import gunicorn_serving

# What each server's reader raises part-way through a broken chunked body.
BROKEN = {
    "gunicorn: bad chunk size": lambda: InvalidChunkSize(b"zz"),
    "gunicorn: no CRLF after a chunk": lambda: ChunkMissingTerminator(b"ab"),
    "gunicorn: the body stops early": lambda: NoMoreData(b""),
    "werkzeug: bad chunk header": lambda: OSError("Invalid chunk header"),
}


class BrokenChunks(io.RawIOBase):
    """A de-chunking reader that gives a few bytes, then fails as the server's does."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.started = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.started:
            self.started = True
            buffer[:6] = b"email="
            return 6
        raise self.error


def _body_routes(app) -> list[str]:
    """Every rule that takes a POST, its placeholders filled."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()):
            paths.append(re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule))
    return sorted(set(paths))


def _row_counts() -> dict[str, int]:
    return {
        table.name: _db.session.scalar(select(func.count()).select_from(table))
        for table in _db.metadata.sorted_tables
    }


def _post_broken(app, path: str, error: Exception, cookie: str = "") -> Response:
    environ = EnvironBuilder(
        path=path,
        method="POST",
        headers={
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/x-www-form-urlencoded",
            **({"Cookie": cookie} if cookie else {}),
        },
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": BrokenChunks(error), "wsgi.input_terminated": True})
    return Response.from_app(app, environ, buffered=True)


@pytest.mark.parametrize("make_error", BROKEN.values(), ids=BROKEN.keys())
@pytest.mark.parametrize("as_staff", [False, True], ids=["anonymous", "staff"])
def test_a_broken_chunked_body_is_a_400_on_every_route_that_takes_one(
    app, client, db, caplog, make_error, as_staff
):
    cookie = ""
    if as_staff:
        login(client, make_user(email="editor@example.org", is_staff=True))
        cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    routes = _body_routes(app)
    assert {"/login", "/signup", "/support/checkout", "/stripe/webhook"} <= set(routes)
    before = _row_counts()
    with caplog.at_level(logging.INFO):
        for path in routes:
            response = _post_broken(app, path, make_error(), cookie)
            assert response.status_code == 400, (path, response.status_code)
            body = response.get_data(as_text=True)
            assert "Traceback" not in body
            assert "<html" in body or "error" in (response.json or {}), (path, body[:200])
    assert _row_counts() == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


FORMS = ["/login", "/signup", "/support/checkout", "/password/forgot", "/stripe/webhook"]


def test_a_broken_chunked_body_is_a_400_through_gunicorn(make_app, tmp_path):
    app = make_app()
    with gunicorn_serving(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) as served:
        for path in FORMS:
            answer = served.raw(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
                "5\r\nemail\r\nzz\r\nxyz\r\n0\r\n\r\n".encode()
            )
            assert answer.startswith(b"HTTP/1.1 400 "), (path, answer[:300])
        # A well-formed chunked form still works through the same server.
        good = served.raw(
            b"POST /password/forgot HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
            b"5\r\nemail\r\n1a\r\n=nobody%40example.org&x=1\r\n0\r\n\r\n"
        )
        assert not good.startswith(b"HTTP/1.1 5"), good[:300]
    errors = served.error_log.read_text()
    assert "Traceback" not in errors and " 500 " not in "\n".join(served.access_lines())
