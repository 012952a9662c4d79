"""Security headers, cookies, CSRF refusal and rate limits on the account forms."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from donations.extensions import limiter
from tests.factories import DEFAULT_PASSWORD, login, make_user

ROOT = Path(__file__).resolve().parent.parent


def _csp(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize("path", ["/", "/login", "/signup", "/no-such-page", "/feed.xml"])
def test_every_response_carries_the_security_headers(client, db, path):
    response = client.get(path)
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self' https://js.stripe.com"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data: https:"
    assert csp["connect-src"] == "'self' https://api.stripe.com"
    assert csp["frame-src"] == "https://js.stripe.com https://hooks.stripe.com"
    # SITE_URL (http://localhost in tests) too: Checkout's return and the emulator's pages.
    assert csp["form-action"] == (
        "'self' https://checkout.stripe.com https://billing.stripe.com http://localhost"
    )
    assert csp["base-uri"] == "'self'" and csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # SITE_URL is http here


def test_embed_pages_may_be_framed_by_other_sites(make_app):
    app = make_app()

    @app.get("/embed/test-widget")
    def test_widget():
        return "<p>widget</p>"

    response = app.test_client().get("/embed/test-widget")
    assert response.status_code == 200
    assert _csp(response)["frame-ancestors"] == "*"
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _csp(app.test_client().get("/embedded"))["frame-ancestors"] == "'none'"


def test_https_site_gets_hsts_and_secure_cookies(make_app):
    app = make_app(SITE_URL="https://news.example.org")
    client = app.test_client()
    with app.app_context():
        email = make_user().email
    response = login(client, email)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
    # An anonymous reader's form token lives in anon_session, with the same protections.
    form = app.test_client().get("/login")
    cookie = next(c for c in form.headers.getlist("Set-Cookie") if c.startswith("anon_session="))
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie


def test_http_site_session_cookie_is_httponly_lax_but_not_secure(client, db):
    response = login(client, make_user())
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_account_templates_have_no_inline_scripts_styles_or_handlers():
    templates = ROOT / "templates"
    paths = [
        *(templates / "accounts").glob("*.html"),
        *(templates / "staff").glob("*.html"),
        templates / "_account_nav.html",
    ]
    assert len(paths) >= 8
    for path in paths:
        text = path.read_text()
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", text), path.name


# --- CSRF ---------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(make_app):
    """An app with CSRF checks on, as in production."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/signup", {"email": "new@example.org", "password": "a fine passphrase here"}),
        ("/login", {"email": "reader@example.org", "password": DEFAULT_PASSWORD}),
        ("/logout", {}),
        ("/password/forgot", {"email": "reader@example.org"}),
        ("/password/reset/some-token", {"password": "a fine passphrase here"}),
    ],
)
def test_forms_without_a_csrf_token_are_refused_with_a_readable_page(csrf_app, path, data):
    response = csrf_app.test_client().post(path, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form has expired or didn&#39;t come from this site" in html
    assert "<title>We couldn't use what was sent (400)" in html


def test_forms_with_the_csrf_token_go_through(csrf_app):
    client = csrf_app.test_client()
    with csrf_app.app_context():
        email = make_user().email
    login(client, email)  # reads the token from the login page
    page = client.get("/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 400
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302


# --- rate limits --------------------------------------------------------------------------


def _post_from(client, path: str, data: dict, ip: str):
    return client.post(path, data=data, environ_base={"REMOTE_ADDR": ip})


def test_login_is_limited_per_account_across_ips(client, db):
    make_user(email="target@example.org")
    data = {"email": "target@example.org", "password": "wrong password guess"}
    for n in range(5):
        assert _post_from(client, "/login", data, f"10.0.0.{n}").status_code == 400
    data["email"] = " TARGET@example.org"  # the key is the normalised email
    blocked = _post_from(client, "/login", data, "10.0.0.99")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert "Retry-After" in blocked.headers
    other = {"email": "other@example.org", "password": "x"}
    assert _post_from(client, "/login", other, "10.0.0.99").status_code == 400


def test_login_is_limited_per_ip_across_accounts(client, db):
    for n in range(10):
        data = {"email": f"guess{n}@example.org", "password": "wrong password guess"}
        assert _post_from(client, "/login", data, "10.0.0.1").status_code == 400
    data = {"email": "fresh@example.org", "password": "wrong password guess"}
    assert _post_from(client, "/login", data, "10.0.0.1").status_code == 429
    assert _post_from(client, "/login", data, "10.0.0.2").status_code == 400
    assert client.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def test_signup_is_limited_per_ip(client, db):
    for n in range(5):
        data = {"email": f"new{n}@example.org", "password": "short"}
        assert _post_from(client, "/signup", data, "10.0.0.1").status_code == 400
    data = {"email": "new9@example.org", "password": "a fine passphrase here"}
    assert _post_from(client, "/signup", data, "10.0.0.1").status_code == 429


def test_signup_is_limited_per_email(client, db):
    for n in range(3):
        data = {"email": "same@example.org", "password": "short"}
        assert _post_from(client, "/signup", data, f"10.0.0.{n}").status_code == 400
    data = {"email": "Same@Example.org", "password": "a fine passphrase here"}
    assert _post_from(client, "/signup", data, "10.0.0.9").status_code == 429


def test_password_reset_requests_are_limited_per_email(client, db):
    for n in range(3):
        response = _post_from(client, "/password/forgot", {"email": "a@example.org"}, f"10.1.{n}.1")
        assert response.status_code == 302
    blocked = _post_from(client, "/password/forgot", {"email": "a@example.org"}, "10.9.9.9")
    assert blocked.status_code == 429


def test_password_reset_requests_are_limited_per_ip(client, db):
    for n in range(5):
        response = _post_from(client, "/password/forgot", {"email": f"{n}@example.org"}, "10.0.0.1")
        assert response.status_code == 302
    blocked = _post_from(client, "/password/forgot", {"email": "z@example.org"}, "10.0.0.1")
    assert blocked.status_code == 429


def test_each_app_starts_with_fresh_rate_limit_counts(make_app):
    data = {"email": "target@example.org", "password": "wrong password guess"}
    first = make_app().test_client()
    for _ in range(5):
        first.post("/login", data=data)
    assert first.post("/login", data=data).status_code == 429
    second = make_app().test_client()
    assert second.post("/login", data=data).status_code == 400


def test_rate_limits_are_shared_through_redis_when_redis_url_is_set(make_app, redis_url):
    url = redis_url
    data = {"email": f"redis-{uuid.uuid4().hex}@example.org", "password": "wrong guess"}
    clients = []
    try:
        first = make_app(REDIS_URL=url).test_client()
        clients.append(limiter.storage.storage)
        assert type(limiter.storage).__name__ == "RedisStorage"
        for _ in range(5):
            assert first.post("/login", data=data).status_code == 400
        # A second app (another worker process, in production) sees the same counts.
        second = make_app(REDIS_URL=url).test_client()
        clients.append(limiter.storage.storage)
        assert second.post("/login", data=data).status_code == 429
    finally:
        for client in clients:
            client.close()  # no unclosed sockets left for a later test to trip over
