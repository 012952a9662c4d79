"""With Redis unreachable, the site keeps taking logins, sign-ups and payments."""

from __future__ import annotations

import logging
import socket

import pytest

from donations.extensions import limiter
from tests.factories import make_user, start_checkout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


@pytest.fixture
def dead_redis_client(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/15")
    with app.app_context():
        yield app.test_client()
        limiter.storage.close()


def test_login_sign_up_and_checkout_work_while_redis_is_down(dead_redis_client, caplog):
    client = dead_redis_client
    make_user(email="reader@example.org")
    with caplog.at_level(logging.WARNING):
        credentials = {"email": "reader@example.org", "password": "a perfectly fine passphrase"}
        login = client.post("/login", data=credentials)
        assert login.status_code == 302
        client.post("/logout")
        signup = client.post(
            "/signup", data={"email": "new@example.org", "password": "another fine passphrase"}
        )
        assert signup.status_code == 303
        client.post("/logout")
        assert start_checkout(client).startswith("cs_")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # Said once, not once per request.
    said = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(said) == 1


def test_rate_limits_still_hold_in_process_while_redis_is_down(dead_redis_client):
    data = {"email": "target@example.org", "password": "wrong password guess"}
    for _ in range(5):
        assert dead_redis_client.post("/login", data=data).status_code == 400
    assert dead_redis_client.post("/login", data=data).status_code == 429


def test_healthz_says_degraded_with_200_while_redis_is_down(dead_redis_client):
    response = dead_redis_client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["redis"] == "degraded"
    assert response.json["database"] == "ok"


def test_healthz_says_ok_with_a_live_redis(make_app, redis_url):
    url = redis_url
    app = make_app(REDIS_URL=url)
    with app.app_context():
        try:
            response = app.test_client().get("/healthz")
        finally:
            limiter.storage.close()
    assert response.json["redis"] == "ok"
    assert response.json["status"] == "ok"


def test_rate_limit_keys_in_redis_carry_no_raw_email_and_have_a_fixed_size(make_app, redis_url):
    url = redis_url
    app = make_app(REDIS_URL=url)
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    email = "someone.quite.identifiable@example.org"
    with app.app_context():
        try:
            app.test_client().post("/login", data={"email": email, "password": "wrong guess"})
            keys = [k.decode() for k in limiter.storage.primary.storage.keys(f"*{prefix}*")]
            limiter.storage.primary.storage.delete(*keys)
        finally:
            limiter.storage.close()
    assert keys
    assert not [k for k in keys if "example.org" in k or "identifiable" in k]
    assert max(len(k) for k in keys) < 200
