"""A logged-in reader's page: one read per request, always fresh, surviving a PostgreSQL restart."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import g, has_app_context
from sqlalchemy import update

from donations.extensions import db
from donations.models import LoginSession, Membership, User
from tests.factories import login, make_membership, make_user
from tests.pgcluster import Cluster, binaries, reap_stale
from tests.pgserver import MISSING, REQUIRE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def article(app):
    """A published article's path."""
    from donations.articles.services import ArticleData, save_article

    save_article(
        ArticleData(slug="a-story", title="A story", body_markdown="Text.", published=True)
    )
    db.session.commit()
    return "/articles/a-story"


def _page(client, path: str) -> str:
    # The test's app context is every request's here, and Flask-Login keeps the user it loaded
    # in `g`: forget it, as a new request in production starts without it.
    if has_app_context():
        g.pop("_login_user", None)
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_member_sees_the_thanks_and_a_lapse_shows_on_the_next_request(app, client, article):
    member = make_user("m@example.org")
    membership = make_membership(member)
    login(client, member)
    assert "Thank you for being a member" in _page(client, article)
    db.session.execute(
        update(Membership).where(Membership.id == membership.id).values(status="canceled")
    )
    db.session.commit()
    page = _page(client, article)
    assert "Rejoin: keep this journalism free" in page
    assert "Thank you for being a member" not in page


def test_a_reader_who_never_joined_is_asked(app, client, article):
    login(client, make_user("r@example.org"))
    page = _page(client, article)
    assert "Keep this journalism free for everyone" in page
    assert "Log out" in page


def test_an_ended_session_is_logged_out_on_the_next_request(app, client, article):
    user = make_user("gone@example.org")
    make_membership(user)
    login(client, user)
    assert "Log out" in _page(client, article)
    # "Log out everywhere" from another browser, or a new password: the rows go.
    db.session.execute(LoginSession.__table__.delete().where(LoginSession.user_id == user.id))
    db.session.commit()
    page = _page(client, article)
    assert "Log out" not in page
    assert "Thank you for being a member" not in page


def test_staff_see_the_staff_link_and_readers_do_not(app, client, article):
    login(client, make_user("staff@example.org", is_staff=True))
    assert 'href="/staff/"' in _page(client, article)
    reader = app.test_client()
    login(reader, make_user("plain@example.org"))
    assert 'href="/staff/"' not in _page(reader, article)


def test_a_supporter_without_a_login_is_never_logged_in(app):
    from donations.accounts.sessions import open_session, user_for_session

    user = make_user("x@example.org")
    session_id = open_session(user)
    db.session.commit()
    with app.test_request_context():
        assert user_for_session(session_id) is not None
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(email=None, password_hash=None, stripe_customer_id="cus_x")
    )
    db.session.commit()
    with app.test_request_context():
        assert user_for_session(session_id) is None


def test_the_state_read_with_the_login_is_read_again_once_the_request_used_its_session(app):
    """A view that did database work (the thanks page records a membership) reads it again."""
    from flask_login import login_user

    from donations.accounts.sessions import open_session, user_for_session
    from donations.membership.view import reader_membership_state

    user = make_user("late@example.org")
    session_id = open_session(user)
    db.session.commit()
    db.session.remove()
    with app.test_request_context():
        loaded = user_for_session(session_id)
        login_user(loaded)
        assert loaded.membership_state is None
        assert reader_membership_state() is None
        make_membership(db.session.get(User, loaded.id))  # this request's own work
        assert reader_membership_state() == "member"


def test_the_loaded_reader_has_every_column_without_a_query(app):
    from donations.accounts.sessions import open_session, user_for_session

    user = make_user("cols@example.org", name="Cols")
    session_id = open_session(user)
    db.session.commit()
    fingerprint = user.token_fingerprint()
    db.session.remove()
    with app.test_request_context():
        loaded = user_for_session(session_id)
        assert (loaded.email, loaded.name, loaded.is_staff) == ("cols@example.org", "Cols", False)
        assert loaded.created_at.tzinfo is not None
        assert loaded.token_fingerprint() == fingerprint
        assert loaded.get_id() == session_id


# ----------------------------------------------------------- a PostgreSQL restart


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A PostgreSQL of this module's own: the test restarts it."""
    bin_dir = binaries()
    if bin_dir is None:
        if REQUIRE:
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    reap_stale("donations-login-")
    own = Cluster(bin_dir, "donations-login-")
    try:
        own.start()
        own.create_database("app")
        yield own
    finally:
        own.destroy()


def test_a_postgresql_restart_costs_a_logged_in_reader_no_failed_request(make_app, cluster):
    app = make_app(DATABASE_URL=cluster.url("app"))
    with app.app_context():
        db.session.execute(Membership.__table__.delete())
        db.session.execute(LoginSession.__table__.delete())
        db.session.execute(User.__table__.delete())
        db.session.commit()
        member = make_user("restart@example.org")
        make_membership(member)
        db.session.remove()
    client = app.test_client()
    login(client, "restart@example.org")
    assert "Thank you for being a member" in _page(client, "/")
    assert "Thank you for being a member" in _page(client, "/")  # a pooled connection now
    cluster.stop("fast")  # every connection ends, as in a restart or a failover
    cluster.start()
    # The pooled connection is dead: the read notices, drops the pool and reads again.
    assert "Thank you for being a member" in _page(client, "/")
    assert "Thank you for being a member" in _page(client, "/")


def test_a_new_workers_first_request_can_be_a_logged_in_one(app, tmp_path):
    """In a fresh process nothing has set the ORM mappers up yet (a gunicorn worker whose first
    request is a logged-in reader's): the read must build its User all the same."""
    from donations.accounts.sessions import open_session

    session_id = open_session(make_user("first@example.org"))
    db.session.commit()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from donations import create_app\n"
        "from tests.conftest import base_config\n"
        "config = {**base_config(Path(sys.argv[1])), 'DATABASE_URL': sys.argv[2]}\n"
        "app = create_app(config)\n"
        "with app.test_request_context():\n"
        "    from donations.accounts.sessions import user_for_session\n"
        "    print(user_for_session(sys.argv[3]).email)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), app.config["DATABASE_URL"], session_id],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "INSTANCE_PATH": str(tmp_path / "instance")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "first@example.org"
