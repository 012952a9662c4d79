"""Password reset by emailed link: signed, expiring after an hour, single use."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import time_machine
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

from donations.accounts.services import set_password
from donations.accounts.tokens import RESET_SALT, make_reset_token
from tests.conftest import mails
from tests.factories import DEFAULT_PASSWORD, login, make_user

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"(http://localhost/password/reset/(\S+))")


def _ask_for_link(client, mail_log, email: str) -> str:
    response = client.post("/password/forgot", data={"email": email}, follow_redirects=True)
    assert response.status_code == 200
    found = LINK.search(mails(mail_log)[-1])
    assert found, mails(mail_log)
    return found.group(1).removeprefix("http://localhost")


def test_reset_link_is_emailed_and_sets_a_new_password(client, db, mail_log):
    user = make_user(email="reader@example.org", name="Rita")
    link = _ask_for_link(client, mail_log, " Reader@Example.org ")
    mail = mails(mail_log)[-1]
    assert "To: reader@example.org" in mail and "Subject: Reset your password" in mail
    assert "Hello Rita" in mail and "within 60 minutes" in mail
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    response.close()  # mail goes out once the response is delivered
    assert "Subject: Your password was changed" in mails(mail_log)[-1]
    assert client.get("/account").status_code == 200  # logged in by the reset
    client.post("/logout")
    bad = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert bad.status_code == 400
    login(client, user, NEW_PASSWORD)


def test_forgot_gives_the_same_answer_for_unknown_and_known_emails(client, db, mail_log):
    make_user(email="known@example.org")
    answers = {}
    for email in ("known@example.org", "unknown@example.org"):
        response = client.post("/password/forgot", data={"email": email})
        assert response.status_code == 302
        assert response.headers["Location"] == "/password/forgot/sent"
        response.close()
        answers[email] = client.get("/password/forgot/sent").get_data(as_text=True)
    assert "If an account exists for known@example.org" in answers["known@example.org"]
    assert (
        answers["known@example.org"].replace("known@", "unknown@") == answers["unknown@example.org"]
    )
    assert len(mails(mail_log)) == 1  # only the real account got mail


def test_forgot_explains_a_malformed_email(client, db):
    response = client.post("/password/forgot", data={"email": "reader.example.org"})
    assert response.status_code == 400
    assert "must have an @-sign" in response.get_data(as_text=True)


def test_reset_link_expires_after_an_hour(client, db, mail_log):
    make_user(email="reader@example.org")
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        link = _ask_for_link(client, mail_log, "reader@example.org")
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert client.get(link).status_code == 200
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        expired = client.get(link)
        assert expired.status_code == 400
        assert "expired or was already used" in expired.get_data(as_text=True)
        refused = client.post(link, data={"password": NEW_PASSWORD})
        assert refused.status_code == 400
    assert client.get("/account").status_code == 302


def test_reset_link_works_only_once(client, db, mail_log):
    user = make_user(email="reader@example.org")
    link = _ask_for_link(client, mail_log, user.email)
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 302
    client.post("/logout")
    assert client.get(link).status_code == 400
    again = client.post(link, data={"password": "yet another passphrase"})
    assert again.status_code == 400
    login(client, user, NEW_PASSWORD)


def test_any_password_change_invalidates_outstanding_links(client, db, mail_log):
    user = make_user(email="reader@example.org")
    link = _ask_for_link(client, mail_log, user.email)
    set_password(user, "changed some other way")
    db.session.commit()
    assert client.get(link).status_code == 400


def test_tampered_links_are_refused(app, client, db):
    victim = make_user(email="victim@example.org")
    token = make_reset_token(make_user(email="attacker@example.org"))
    _, timestamp, signature = token.split(".")
    claims = {"user": victim.id, "fp": victim.token_fingerprint()}
    victim_payload = base64_encode(json.dumps(claims, separators=(",", ":"))).decode()
    forged = {
        "victim payload, attacker signature": f"{victim_payload}.{timestamp}.{signature}",
        # Change the signature's first character: the last one may carry only padding bits,
        # so changing it can leave the decoded signature as it was.
        "changed signature": f"{token.rsplit('.', 1)[0]}.{'B' if signature[0] == 'A' else 'A'}"
        f"{signature[1:]}",
        "another key": URLSafeTimedSerializer("not-our-secret", salt=RESET_SALT).dumps(claims),
        "another salt": URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="x").dumps(claims),
        "garbage": "garbage",
    }
    for name, bad in forged.items():
        assert client.get(f"/password/reset/{bad}").status_code == 400, name
        response = client.post(f"/password/reset/{bad}", data={"password": NEW_PASSWORD})
        assert response.status_code == 400, name
    assert client.get("/account").status_code == 302
    login(client, victim)  # the victim's password is unchanged


def test_weak_new_password_is_explained_and_the_link_still_works(client, db, mail_log):
    user = make_user(email="reader@example.org")
    link = _ask_for_link(client, mail_log, user.email)
    weak = client.post(link, data={"password": "reader"})
    html = weak.get_data(as_text=True)
    assert weak.status_code == 400
    assert "Use at least 10 characters" in html and 'aria-invalid="true"' in html
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 302


def test_reset_links_are_absolute_and_built_from_site_url(make_app, caplog):
    caplog.set_level(logging.INFO, logger="donations.mail")
    app = make_app(SITE_URL="https://news.example.org/")
    with app.app_context():
        make_user(email="reader@example.org")
    client = app.test_client()
    client.post("/password/forgot", data={"email": "reader@example.org"}, follow_redirects=True)
    assert "\nhttps://news.example.org/password/reset/" in mails(caplog)[-1]
