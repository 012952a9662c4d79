"""Request bodies are cut off at a limit while they are read, also without Content-Length."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from donations.config import MAX_CONTENT_LENGTH
from donations.models import StripeEvent, User
from donations.payments.webhooks import MAX_BODY

FIVE_MB = 5 * 1024 * 1024


class CountingBody(io.RawIOBase):
    """A chunked upload of `total` bytes that counts how much the app read of it."""

    def __init__(self, total: int, prefix: bytes = b"") -> None:
        self.total = total
        self.served = 0
        self.prefix = prefix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.total - self.served)
        chunk = (self.prefix + b"a" * size)[self.served : self.served + size]
        chunk = chunk.ljust(size, b"a")
        buffer[:size] = chunk
        self.served += size
        return size


def _chunked(app, path: str, body: CountingBody, content_type: str, **headers) -> Response:
    """POST as a server hands the app a chunked request: no Content-Length, a terminated stream."""
    environ = EnvironBuilder(
        path=path,
        method="POST",
        headers={"Transfer-Encoding": "chunked", "Content-Type": content_type, **headers},
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    # What gunicorn and Werkzeug's server say for a chunked request they de-chunk.
    environ.update({"wsgi.input": body, "wsgi.input_terminated": True})
    return Response.from_app(app, environ, buffered=True)


def test_a_chunked_5_mb_webhook_gets_413_before_it_is_read_and_nothing_is_stored(app, db):
    body = CountingBody(FIVE_MB, prefix=b'{"id": "evt_big", "object": "event", "data": "')
    response = _chunked(
        app, "/stripe/webhook", body, "application/json", **{"Stripe-Signature": "t=1,v1=00"}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert body.served <= MAX_BODY + 64 * 1024
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


@pytest.mark.parametrize("path", ["/login", "/signup", "/support/checkout"])
def test_a_chunked_5_mb_form_gets_413_before_it_is_read(app, db, path):
    body = CountingBody(FIVE_MB, prefix=b"email=x%40example.org&password=")
    response = _chunked(app, path, body, "application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "<html" in response.get_data(as_text=True)
    assert body.served <= MAX_CONTENT_LENGTH + 64 * 1024
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("path", ["/signup", "/stripe/webhook"])
def test_a_declared_oversize_body_is_refused_without_reading(client, db, path):
    response = client.post(
        path, data=b"a" * (MAX_CONTENT_LENGTH + 1), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
