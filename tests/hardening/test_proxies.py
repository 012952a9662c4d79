"""TRUSTED_PROXIES: the client address comes from X-Forwarded-For only through that many."""

from __future__ import annotations

import pytest


def _login_from(client, forwarded_for: str):
    data = {"email": f"nobody-{forwarded_for}@example.org", "password": "wrong password guess"}
    # The proxy is 10.0.0.1; the client it forwards for is in the header.
    return client.post(
        "/login",
        data=data,
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )


def _exhaust_login_limit(client, forwarded_for: str) -> None:
    for n in range(10):
        data = {"email": f"guess{n}@example.org", "password": "wrong password guess"}
        response = client.post(
            "/login",
            data=data,
            headers={"X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
        assert response.status_code == 400


def test_behind_one_trusted_proxy_each_forwarded_client_has_its_own_limit(make_app):
    client = make_app(TRUSTED_PROXIES="1").test_client()
    _exhaust_login_limit(client, "203.0.113.7")
    assert _login_from(client, "203.0.113.7").status_code == 429
    assert _login_from(client, "198.51.100.9").status_code == 400


def test_a_client_cannot_pick_its_address_by_prepending_to_the_header(make_app):
    client = make_app(TRUSTED_PROXIES="1").test_client()
    _exhaust_login_limit(client, "203.0.113.7")
    # The proxy appends the real address; only the last one (the proxy's own view) counts.
    assert _login_from(client, "198.51.100.9, 203.0.113.7").status_code == 429


def test_without_trusted_proxies_the_header_is_ignored(make_app):
    client = make_app(TRUSTED_PROXIES="0").test_client()
    _exhaust_login_limit(client, "203.0.113.7")
    assert _login_from(client, "198.51.100.9").status_code == 429


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_a_bad_trusted_proxies_setting_stops_start_up(make_app, value):
    from donations import ConfigError

    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        make_app(TRUSTED_PROXIES=value)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("LOG_FORMAT", "xml"),
        ("PROMETHEUS_MULTIPROC_DIR", "/no/such/dir"),
        ("REDIS_URL", "http://x"),
    ],
)
def test_other_bad_operations_settings_stop_start_up(make_app, setting, value):
    from donations import ConfigError

    with pytest.raises(ConfigError, match=setting):
        make_app(**{setting: value})
