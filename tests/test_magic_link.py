"""Sign-in by emailed link: asked for on /login, fifteen minutes, spent once (even when two
uses race), never by a GET, and ended by a new password or "log out everywhere"."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from donations.accounts.services import set_password
from donations.accounts.tokens import make_login_token, make_reset_token
from donations.extensions import db as _db
from donations.models import LoginSession, User
from tests.conftest import mails
from tests.factories import login, make_user

LINK = re.compile(r"(http://\S+/login/link/(\S+))")


def _ask_for_link(client, mail_log, email: str) -> str:
    response = client.post("/login/link", data={"email": email})
    assert response.status_code == 303 and response.headers["Location"] == "/login/link/sent"
    response.close()  # mail goes out once the response is delivered
    found = LINK.search(mails(mail_log)[-1])
    assert found, mails(mail_log)
    return urllib.parse.urlsplit(found.group(1)).path


def _logged_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_the_login_page_offers_an_emailed_link_in_an_accessible_form(client, db):
    html = client.get("/login").get_data(as_text=True)
    assert 'action="/login/link"' in html
    assert '<label for="link-email">Address for a sign-in link</label>' in html
    assert 'id="link-email" name="email"' in html and 'aria-describedby="link-email-hint"' in html
    assert html.count('id="email"') == 1  # the password form's field keeps its own id


def test_an_emailed_link_logs_in_after_the_button_and_not_on_opening(client, db, mail_log):
    user = make_user(email="reader@example.org", name="Rita")
    path = _ask_for_link(client, mail_log, " Reader@Example.org ")
    mail = mails(mail_log)[-1]
    assert "To: reader@example.org" in mail and "Subject: Your sign-in link" in mail
    assert "Hello Rita" in mail and "within 15 minutes" in mail
    assert "If an account exists for Reader@Example.org" in client.get("/login/link/sent").text
    for _ in range(2):  # a mail scanner's prefetch, then the reader: neither spends it
        page = client.get(path)
        assert page.status_code == 200 and "Log in as reader@example.org" in page.text
        assert not _logged_in(client)
    response = client.post(path)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert _logged_in(client)
    assert _db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    assert _db.session.get(User, user.id).last_login_at is not None


def test_unknown_and_known_addresses_get_the_same_answer_and_only_the_known_one_mail(
    client, db, mail_log
):
    make_user(email="known@example.org")
    answers = {}
    for email in ("known@example.org", "unknown@example.org"):
        response = client.post("/login/link", data={"email": email})
        assert response.status_code == 303
        assert response.headers["Location"] == "/login/link/sent"
        response.close()
        answers[email] = client.get("/login/link/sent").get_data(as_text=True)
    assert "If an account exists for known@example.org" in answers["known@example.org"]
    assert (
        answers["known@example.org"].replace("known@", "unknown@") == answers["unknown@example.org"]
    )
    assert len(mails(mail_log)) == 1


def test_a_malformed_address_is_explained_on_the_link_page(client, db):
    response = client.post("/login/link", data={"email": "reader.example.org"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "must have an @-sign" in html and 'aria-invalid="true"' in html


def test_asking_for_links_is_rate_limited_per_address(client, db, mail_log):
    make_user(email="reader@example.org")
    statuses = [
        client.post("/login/link", data={"email": "reader@example.org"}).status_code
        for _ in range(4)
    ]
    assert statuses == [303, 303, 303, 429]  # FORGOT_PER_EMAIL: 3 per 15 minutes


def test_a_link_expires_after_fifteen_minutes(client, db, mail_log):
    make_user(email="reader@example.org")
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        path = _ask_for_link(client, mail_log, "reader@example.org")
    with time_machine.travel(start + timedelta(minutes=14, seconds=50), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(start + timedelta(minutes=15, seconds=10), tick=False):
        expired = client.get(path)
        assert expired.status_code == 400 and "expired or was already used" in expired.text
        assert client.post(path).status_code == 400
        assert not _logged_in(client)


def test_a_link_works_only_once(client, db, mail_log):
    make_user(email="reader@example.org")
    path = _ask_for_link(client, mail_log, "reader@example.org")
    assert client.post(path).status_code == 303
    client.post("/logout")
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert not _logged_in(client)


def _end_links_by_logging_out_everywhere(client, user: User) -> None:
    login(client, user)  # with the password, then "log out everywhere" from the account page
    assert client.post("/account/logout-everywhere").status_code == 303
    client.post("/logout")


def _end_links_by_a_new_password(client, user: User) -> None:
    set_password(user, "changed some other way")
    _db.session.commit()


@pytest.mark.parametrize(
    "end_links", [_end_links_by_logging_out_everywhere, _end_links_by_a_new_password]
)
def test_log_out_everywhere_or_a_new_password_ends_the_link(client, db, mail_log, end_links):
    user = make_user(email="reader@example.org")
    path = _ask_for_link(client, mail_log, user.email)
    end_links(client, user)
    _db.session.expire_all()
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert not _logged_in(client)


def test_a_reset_or_tampered_token_is_no_sign_in_link(client, db):
    user = make_user(email="reader@example.org")
    token = make_login_token(user)
    payload, timestamp, signature = token.split(".")
    forged = f"{payload}.{timestamp}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    for bad in (make_reset_token(user), forged, "garbage"):
        assert client.get(f"/login/link/{bad}").status_code == 400, bad
        assert client.post(f"/login/link/{bad}").status_code == 400, bad
    assert not _logged_in(client)
    assert client.get(f"/login/link/{token}").status_code == 200  # the real one still works


def _use_in_a_browser(url: str, barrier: threading.Barrier) -> int:
    """Open the link (a CSRF token in its own session), wait for the other, press the button."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(url, timeout=30) as page:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())[1]
    body = urllib.parse.urlencode({"csrf_token": csrf}).encode()
    barrier.wait()
    try:
        with opener.open(url, data=body, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.postgres_only  # two connections racing on a real row
def test_two_simultaneous_uses_log_in_exactly_once_on_postgresql(live_server):
    _two_simultaneous_uses(live_server)


def test_two_simultaneous_uses_log_in_exactly_once_on_the_suites_database(live_server):
    # SQLite has no row locks: only the conditional write that spends the link holds there.
    _two_simultaneous_uses(live_server)


def _two_simultaneous_uses(live_server) -> None:
    app = live_server.app
    with app.app_context():
        user = make_user(email="racer@example.org")
        url = f"{live_server.url}/login/link/{make_login_token(user)}"
    for attempt in range(3):  # several rounds: each a fresh link, each spent exactly once
        barrier = threading.Barrier(2)
        statuses = [0, 0]

        def run(n: int, url=url, barrier=barrier, statuses=statuses) -> None:
            statuses[n] = _use_in_a_browser(url, barrier)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert sorted(statuses) == [303, 400], (attempt, statuses)
        with app.app_context():
            sessions = _db.session.scalars(
                select(LoginSession).where(LoginSession.user_id == user.id)
            ).all()
            assert len(sessions) == attempt + 1  # one login per link
            url = f"{live_server.url}/login/link/{make_login_token(_db.session.get(User, user.id))}"
