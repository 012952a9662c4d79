"""The staff role: the /staff/ guard and the create-staff command."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from donations.accounts.passwords import verify_password
from donations.models import User
from donations.staff.guard import refuse_non_staff, staff_required
from tests.factories import DEFAULT_PASSWORD, login, make_user


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("reader", 403), ("staff", 200)])
def test_staff_area_is_for_staff_only(client, db, who, status):
    if who != "anonymous":
        login(client, make_user(is_staff=who == "staff"))
    response = client.get("/staff/")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    if who == "anonymous":
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login"
        assert parse_qs(location.query) == {"next": ["/staff/"]}
    elif who == "reader":
        assert "You don't have access to this page" in html
    else:
        assert "Staff dashboard" in html


def test_login_from_the_staff_redirect_returns_to_the_staff_area(client, db):
    user = make_user(is_staff=True)
    location = client.get("/staff/").headers["Location"]
    response = client.post(location, data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/staff/"


def test_the_whole_staff_blueprint_is_guarded_not_only_decorated_views(app):
    # Views added later without @staff_required are still covered by the blueprint hook.
    assert refuse_non_staff in app.before_request_funcs["staff"]


@pytest.mark.parametrize(("is_staff", "status"), [(False, 403), (True, 200)])
def test_staff_required_decorator_guards_any_view(app, client, db, is_staff, status):
    @app.get("/decorated-for-test")
    @staff_required
    def decorated():
        return "ok"

    assert client.get("/decorated-for-test").status_code == 302
    login(client, make_user(is_staff=is_staff))
    assert client.get("/decorated-for-test").status_code == status


# --- create-staff -------------------------------------------------------------------------


def _user(db, email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_create_staff_on_a_fresh_database_with_a_password(runner, db, client):
    result = runner.invoke(
        args=["create-staff", " Editor@Example.org ", "--password", "newsroom editor key"]
    )
    assert result.exit_code == 0, result.output
    assert "Created staff account editor@example.org." in result.output
    user = _user(db, "editor@example.org")
    assert user.is_staff and verify_password(user.password_hash, "newsroom editor key")
    assert "newsroom editor key" not in result.output
    login(client, "editor@example.org", "newsroom editor key")
    assert client.get("/staff/").status_code == 200


def test_create_staff_without_a_password_asks_for_one_twice(runner, db):
    result = runner.invoke(
        args=["create-staff", "editor@example.org"],
        input="typed twice passphrase\ntyped twice passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert "typed twice passphrase" not in result.output  # hidden input
    user = _user(db, "editor@example.org")
    assert user.is_staff and verify_password(user.password_hash, "typed twice passphrase")


def test_create_staff_promotes_an_existing_user_and_keeps_the_password(runner, db):
    make_user(email="reader@example.org", name="Rita")
    result = runner.invoke(args=["create-staff", "READER@example.org"])
    assert result.exit_code == 0, result.output
    assert "reader@example.org is now staff." in result.output
    user = _user(db, "reader@example.org")
    assert user.is_staff and user.name == "Rita"
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)
    assert db.session.query(User).count() == 1


def test_create_staff_on_an_existing_user_sets_a_given_password(runner, db):
    make_user(email="reader@example.org")
    result = runner.invoke(
        args=["create-staff", "reader@example.org", "--password", "a replaced passphrase"]
    )
    assert result.exit_code == 0, result.output
    assert "and set a new password" in result.output
    user = _user(db, "reader@example.org")
    assert verify_password(user.password_hash, "a replaced passphrase")


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("not-an-email", "must have an @-sign"),
        ("editor@localhost", "after the @-sign is not valid"),
        ("two@@example.org", "email"),
    ],
)
def test_create_staff_explains_a_malformed_email(runner, db, email, problem):
    result = runner.invoke(args=["create-staff", email, "--password", "newsroom editor key"])
    assert result.exit_code != 0
    assert f"Error: {email}: Enter an email address" in result.output
    assert problem in result.output
    assert db.session.query(User).count() == 0


def test_create_staff_refuses_a_weak_password(runner, db):
    result = runner.invoke(args=["create-staff", "ed@example.org", "--password", "password123"])
    assert result.exit_code != 0
    assert "list of very common passwords" in result.output
    assert _user(db, "ed@example.org") is None
