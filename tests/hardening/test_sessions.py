"""Logout ends a session on the server; "log out everywhere" ends every other one."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

from flask import session
from sqlalchemy import func, select

from donations.extensions import db as _db
from donations.models import LoginSession, User, utcnow
from tests.factories import DEFAULT_PASSWORD, make_user


def _login(client, email: str, remember: bool = False):
    data = {"email": email, "password": DEFAULT_PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302
    return response


def _fresh_app_with_user(make_app):
    # No shared app context: each request loads the user from its own cookie.
    app = make_app()
    with app.app_context():
        email = make_user().email
    return app, email


def test_a_session_cookie_copied_before_logout_is_refused_after_it(make_app):
    app, email = _fresh_app_with_user(make_app)
    client = app.test_client()
    _login(client, email)
    copied = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/account").status_code == 302  # to the login page


def test_a_remember_me_cookie_copied_before_logout_is_refused_after_it(make_app):
    app, email = _fresh_app_with_user(make_app)
    client = app.test_client()
    _login(client, email, remember=True)
    copied = client.get_cookie("remember_token").value
    client.post("/logout")

    thief = app.test_client()
    thief.set_cookie("remember_token", copied)
    assert thief.get("/account").status_code == 302


def test_log_out_everywhere_ends_every_other_session_and_keeps_this_one(make_app):
    app, email = _fresh_app_with_user(make_app)
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    for client in (laptop, phone, tablet):
        _login(client, email)
    response = laptop.post("/account/logout-everywhere")
    assert response.status_code == 303
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302
    assert tablet.get("/account").status_code == 302
    with app.app_context():
        user_id = _db.session.scalar(select(User.id).where(User.email == email))
        left = _db.session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user_id)
        )
    assert left == 1


def test_the_account_page_offers_log_out_everywhere(make_app):
    app, email = _fresh_app_with_user(make_app)
    client = app.test_client()
    _login(client, email)
    page = client.get("/account").get_data(as_text=True)
    assert 'action="/account/logout-everywhere"' in page


def test_logging_out_in_one_browser_keeps_the_others(make_app):
    app, email = _fresh_app_with_user(make_app)
    first, second = app.test_client(), app.test_client()
    _login(first, email)
    _login(second, email)
    first.post("/logout")
    assert second.get("/account").status_code == 200


def _expire_every_login_session(app) -> None:
    with app.app_context():
        _db.session.execute(
            LoginSession.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1))
        )
        _db.session.commit()


def test_a_login_session_past_its_expiry_logs_no_cookie_in(make_app):
    # A cookie (or a copy of it) outlives its row's 31 days only if we let it: we don't.
    app, email = _fresh_app_with_user(make_app)
    client = app.test_client()
    _login(client, email, remember=True)
    remembered = client.get_cookie("remember_token").value
    assert client.get("/account").status_code == 200
    _expire_every_login_session(app)
    assert client.get("/account").status_code == 302  # the session cookie
    thief = app.test_client()
    thief.set_cookie("remember_token", remembered)
    assert thief.get("/account").status_code == 302  # the remember-me cookie alone


def test_the_remember_me_cookie_lasts_thirty_days_as_promised(make_app):
    app, email = _fresh_app_with_user(make_app)
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    response = _login(app.test_client(), email, remember=True)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "remember_token=" in c)
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie)[1])
    assert abs(expires - (utcnow() + timedelta(days=30))) < timedelta(minutes=5)
    # Whatever sets it without a duration of its own gets the same 30 days.
    with app.test_request_context():
        login_manager = app.login_manager
        session["_user_id"] = "1:x"
        answer = app.response_class()
        login_manager._set_cookie(answer)
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", answer.headers["Set-Cookie"])[1])
    assert abs(expires - (utcnow() + timedelta(days=30))) < timedelta(minutes=5)
