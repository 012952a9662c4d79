"""Claim links (pay first) respect the account: they never log into an existing account, never
touch a staff account, die with the account's new password or "log out everywhere", cannot be
forged from a supporter's id, and are spent exactly once even when requests race."""

from __future__ import annotations

import hashlib
import html
import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update

from donations.accounts import claims
from donations.accounts.passwords import hash_password, verify_password
from donations.accounts.services import reset_password
from donations.accounts.tokens import CLAIM_SALT, make_reset_token
from donations.extensions import db as _db
from donations.models import Membership, User
from tests.factories import DEFAULT_PASSWORD, login, make_membership, make_supporter, make_user

NEW_PASSWORD = "a brand new passphrase for the account"


def _path(link: str) -> str:
    return urllib.parse.urlsplit(link).path


@pytest.fixture
def owner(db):
    """An account whose address also paid, anonymously, for a membership."""
    return make_user(email="owner@example.org")


@pytest.fixture
def paid(db, owner):
    """The Stripe-only supporter of that payment, with its membership."""
    supporter = make_supporter("owner@example.org")
    make_membership(supporter, stripe_subscription_id="sub_paid")
    return supporter


def _membership_owner() -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(Membership.user_id))


def test_an_existing_account_is_never_logged_into_by_the_link(client, owner, paid):
    path = _path(claims.claim_link(paid))
    page = client.get(path)
    assert page.status_code == 200
    assert "Log in to add your membership" in page.get_data(as_text=True)
    login_link = html.unescape(re.search(r'href="(/login\?next=[^"]+)"', page.get_data(True))[1])
    assert path in client.get(login_link).get_data(as_text=True)  # the form carries it on
    refused = client.post(path)
    assert refused.status_code == 400 and "Log in as owner@example.org" in refused.get_data(True)
    assert client.get("/account").status_code == 302  # nobody is logged in
    assert _membership_owner() == paid.id
    # Logged in (the link rides along as `next`), the owner adds it with one click.
    response = client.post(
        "/login", data={"email": owner.email, "password": DEFAULT_PASSWORD, "next": path}
    )
    assert response.headers["Location"] == path
    assert client.post(path).headers["Location"] == "/account"
    assert _membership_owner() == owner.id


def test_someone_else_logged_in_cannot_take_the_membership(client, owner, paid):
    path = _path(claims.claim_link(paid))
    login(client, make_user(email="someone.else@example.org"))
    assert client.get(path).status_code == 403
    assert client.post(path).status_code == 403
    assert _membership_owner() == paid.id


def test_a_link_for_a_new_address_never_switches_a_logged_in_reader_to_it(client, owner):
    newcomer = make_supporter("newcomer@example.org")
    make_membership(newcomer, stripe_subscription_id="sub_newcomer")
    path = _path(claims.claim_link(newcomer))
    login(client, owner)
    page = client.get(path)
    assert page.status_code == 403 and "This membership is for someone else" in page.get_data(True)
    data = {"password": "a perfectly fine passphrase", "name": ""}
    assert client.post(path, data=data).status_code == 403
    _db.session.expire_all()
    assert _db.session.get(User, newcomer.id).password_hash is None  # no account was made
    assert "owner@example.org" in client.get("/account").get_data(as_text=True)  # still them


def test_the_claim_page_never_advises_a_step_the_link_cannot_survive(client, owner, paid):
    page = client.get(_path(claims.claim_link(paid))).get_data(as_text=True)
    assert "open this link again" not in page.split("Forgot the password?", 1)[1]
    assert "A new password ends this link" in page


def test_a_staff_account_is_never_logged_into_nor_changed_by_a_link(client, db):
    staff = make_user(email="editor@example.org", is_staff=True)
    supporter = make_supporter("editor@example.org")
    make_membership(supporter, stripe_subscription_id="sub_staff")
    path = _path(claims.claim_link(supporter))
    for signed_in in (False, True):
        if signed_in:
            login(client, staff)
        page = client.get(path)
        assert page.status_code == 403 and "staff account" in page.get_data(as_text=True)
        assert client.post(path).status_code == 403
        assert _membership_owner() == supporter.id
    client.post("/logout")
    assert client.get("/account").status_code == 302


def _end_links_by_a_new_password(client, owner) -> None:
    reset_password(make_reset_token(owner), NEW_PASSWORD)
    _db.session.commit()
    login(client, owner, NEW_PASSWORD)


def _end_links_by_logging_out_everywhere(client, owner) -> None:
    login(client, owner)
    assert client.post("/account/logout-everywhere").status_code == 303


@pytest.mark.parametrize(
    "end_links", [_end_links_by_a_new_password, _end_links_by_logging_out_everywhere]
)
def test_the_accounts_new_password_or_log_out_everywhere_ends_the_link(
    client, owner, paid, end_links
):
    path = _path(claims.claim_link(paid))
    end_links(client, owner)
    # Even its owner, logged in, cannot use a link made before: a new one is mailed on request.
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    assert _membership_owner() == paid.id
    fresh = _path(claims.claim_link(_db.session.get(User, paid.id)))
    assert client.post(fresh).headers["Location"] == "/account"
    assert _membership_owner() == owner.id


def test_log_out_everywhere_ends_the_password_reset_links_too(client, owner):
    token = make_reset_token(owner)
    login(client, owner)
    client.post("/account/logout-everywhere")
    _db.session.expire_all()
    assert client.get(f"/password/reset/{token}").status_code == 400


def test_a_supporter_without_a_password_has_no_guessable_fingerprint(app, client, db):
    first, second = make_supporter("one@example.org"), make_supporter("two@example.org")
    assert first.token_fingerprint() != second.token_fingerprint()
    # What forging a link took before: the key, the (sequential) id and sha256("")[:20].
    constant = hashlib.sha256(b"").hexdigest()[:20]
    signer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=CLAIM_SALT)
    forged = signer.dumps({"user": first.id, "fp": constant, "email": "one@example.org"})
    assert client.get(f"/account/claim/{forged}").status_code == 400
    assert (
        client.post(f"/account/claim/{forged}", data={"password": NEW_PASSWORD}).status_code == 400
    )
    assert db.session.get(User, first.id).has_login is False


def test_a_claim_that_a_racing_request_won_meanwhile_is_refused(app, db, monkeypatch):
    # Two clicks on the link: the second request read the supporter before the first one's
    # commit, and must see that commit once it holds the row lock (not its stale copy).
    supporter = make_supporter("racer@example.org")
    token = claims.claim_link(supporter).rsplit("/", 1)[1]
    read = claims.claim_for_token

    def read_then_lose_the_race(given: str):
        found = read(given)  # the supporter, unclaimed, now in this session's identity map
        with db.engine.begin() as conn:  # the other request claims it and commits
            conn.execute(
                update(User)
                .where(User.id == supporter.id)
                .values(
                    email="racer@example.org",
                    password_hash=hash_password("first one's"),
                    token_generation=User.token_generation + 1,  # as spending the link does
                )
            )
        return found

    monkeypatch.setattr(claims, "claim_for_token", read_then_lose_the_race)
    outcome = claims.claim(token, "the second passphrase")
    assert outcome.user is None and "token" in outcome.errors
    db.session.rollback()
    db.session.expire_all()
    stored = db.session.get(User, supporter.id).password_hash
    assert verify_password(stored, "first one's")  # the winner's password is kept


def _claim_in_a_browser(url: str, password: str, barrier: threading.Barrier) -> int:
    """GET the claim page (a CSRF token in its own session), wait for the others, POST."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(url, timeout=30) as page:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())[1]
    body = urllib.parse.urlencode({"csrf_token": csrf, "password": password}).encode()
    barrier.wait()
    try:
        with opener.open(url, data=body, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.postgres_only  # row locks and real concurrency
def test_six_racing_claims_make_one_account_and_keep_its_password(live_server):
    _six_racing_claims(live_server)


def test_six_racing_claims_on_the_suites_database_make_one_account(live_server):
    # SQLite has no row locks: only the conditional write that spends the link holds there.
    _six_racing_claims(live_server)


def _six_racing_claims(live_server) -> None:
    app = live_server.app
    with app.app_context():
        supporter = make_supporter("six@example.org")
        url = live_server.url + _path(claims.claim_link(supporter))
    passwords = [f"racing passphrase number {n}" for n in range(6)]
    barrier = threading.Barrier(6)
    statuses = [0] * 6

    def run(n: int) -> None:
        statuses[n] = _claim_in_a_browser(url, passwords[n], barrier)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert sorted(statuses) == [302, 400, 400, 400, 400, 400], statuses
    winner = passwords[statuses.index(302)]
    with app.app_context():
        user = _db.session.get(User, supporter.id)
        assert user.email == "six@example.org"
        assert verify_password(user.password_hash, winner)  # the password its owner was told
        assert _db.session.scalar(select(func.count()).select_from(User)) == 1
