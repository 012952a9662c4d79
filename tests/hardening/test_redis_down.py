"""With Redis unreachable, the site keeps taking logins, sign-ups and payments."""

from __future__ import annotations

import logging
import socket
import uuid

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
        limiter.storage.storage.close()
    # Flask-Limiter keeps "storage down" on the one shared limiter until its next back-off
    # check (seconds away); the next test's app must start with its storage believed up.
    limiter._storage_dead = False


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
            limiter.storage.storage.close()
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
            keys = [k.decode() for k in limiter.storage.storage.keys(f"*{prefix}*")]
            limiter.storage.storage.delete(*keys)
        finally:
            limiter.storage.storage.close()
    assert keys
    assert not [k for k in keys if "example.org" in k or "identifiable" in k]
    assert max(len(k) for k in keys) < 200


def test_when_redis_goes_away_each_route_keeps_its_own_limits_in_process(
    make_app, redis_url, caplog
):
    from donations.accounts.limits import FORGOT_PER_EMAIL, LOGIN_PER_EMAIL

    app = make_app(REDIS_URL=redis_url)
    client = app.test_client()
    email = f"target-{uuid.uuid4().hex}@example.org"  # Redis db keeps counts across runs
    login = {"email": email, "password": "wrong password guess"}
    per_login = int(LOGIN_PER_EMAIL.split()[0])
    with app.app_context():
        try:
            assert client.post("/login", data=login).status_code == 400  # counted in Redis
            assert limiter.limiter.storage is limiter.storage
            # Redis goes away: its connections close and new ones find nothing listening.
            pool = limiter.storage.storage.connection_pool
            pool.connection_kwargs["port"] = _closed_port()
            pool.disconnect()
            pool.reset()  # and forgets them: a new one uses connection_kwargs
            with caplog.at_level(logging.WARNING):
                # Counted again from zero, in this process (the request that finds Redis gone
                # may count twice: Flask-Limiter evaluates it again on the fallback).
                codes = [client.post("/login", data=login).status_code for _ in range(per_login)]
                codes.append(client.post("/login", data=login).status_code)
                assert codes[0] == 400 and codes[-1] == 429, codes
                # Another route's own limit, not login's and not one global list.
                forgot = {"email": email}
                per_forgot = int(FORGOT_PER_EMAIL.split()[0])
                codes = [
                    client.post("/password/forgot", data=forgot).status_code
                    for _ in range(per_forgot + 1)
                ]
                assert 429 not in codes[:-2] and codes[-1] == 429, codes
            assert limiter.limiter.storage is not limiter.storage  # the in-memory fallback
            assert client.get("/healthz").json["redis"] == "degraded"
            assert any("unreachable" in r.getMessage() for r in caplog.records)
        finally:
            limiter.storage.storage.close()
            limiter._storage_dead = False  # as dead_redis_client: the next app starts afresh
