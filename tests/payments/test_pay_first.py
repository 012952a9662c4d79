"""Pay first: an anonymous reader pays for a membership, then claims it by an emailed link."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select, text

from donations.membership.progress import get_progress, recount_members
from donations.models import (
    Donation,
    MemberChange,
    MemberCounter,
    Membership,
    OutboxMail,
    User,
)
from tests.conftest import mails
from tests.factories import (
    DEFAULT_PASSWORD,
    login,
    make_membership,
    make_user,
    pay_membership,
)

LINK = re.compile(r"http://localhost(/account/claim/\S+)")
PASSWORD = "paper lanterns over the river"


def _mails_to(mail_log, to: str, count: int = 1) -> list[str]:
    """The mails logged to `to`, waiting (up to 5 s) for `count` (sent after the response)."""
    for _ in range(100):
        found = [m for m in mails(mail_log) if f"To: {to}" in m]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    return found


def _claim_path(mail_log, to: str) -> str:
    (mail,) = _mails_to(mail_log, to)
    assert "Subject: Welcome: your membership receipt" in mail
    assert "$8 each month" in mail
    return LINK.search(mail).group(1)


def test_anonymous_member_gets_a_link_that_makes_the_account(client, db, emulator, mail_log):
    session_id = pay_membership(client, emulator, email="Pay.First@example.org")
    supporter = db.session.scalar(select(User))
    assert (supporter.email, supporter.billing_email) == (None, "Pay.First@example.org")
    assert get_progress().members == 1
    thanks = client.get(f"/support/thanks?session_id={session_id}").get_data(as_text=True)
    assert "emailed" in thanks and "Pay.First@example.org" in thanks

    path = _claim_path(mail_log, "Pay.First@example.org")
    page = client.get(path).get_data(as_text=True)
    assert "Finish your account" in page and "pay.first@example.org" in page
    short = client.post(path, data={"password": "short"})
    assert short.status_code == 400 and "Finish your account" in short.get_data(as_text=True)

    done = client.post(path, data={"password": PASSWORD, "name": "Pat"})
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    account = client.get("/account").get_data(as_text=True)
    assert "$8.00" in account or "$8" in account
    db.session.expire_all()
    user = db.session.get(User, supporter.id)
    assert (user.email, user.name, user.has_login) == ("pay.first@example.org", "Pat", True)
    # Single use: the same link cannot claim again (nor reset the new password).
    assert client.get(path).status_code == 400
    assert client.post(path, data={"password": "another long passphrase"}).status_code == 400
    client.post("/logout")
    login(client, "pay.first@example.org", PASSWORD)


@pytest.mark.parametrize("already_member", [False, True])
def test_link_attaches_the_membership_to_the_existing_account_of_that_address(
    client, db, emulator, mail_log, already_member
):
    owner = make_user(email="owner@example.org")
    if already_member:
        make_membership(owner, stripe_subscription_id="sub_existing")
        db.session.execute(
            MemberCounter.__table__.update().values(members=1)  # the factory skips the counter
        )
        db.session.commit()
    pay_membership(client, emulator, email="owner@example.org")
    # Nothing is linked by email alone: the payment sits with a Stripe-only supporter.
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    path = _claim_path(mail_log, "owner@example.org")
    # The link never logs into the account by itself: its owner logs in, then comes back.
    page = client.get(path)
    assert page.status_code == 200 and "Log in to add your membership" in page.get_data(True)
    assert client.post(path).status_code == 400
    assert client.get("/account").status_code == 302  # still not logged in
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    login_page = client.get(f"/login?next={path}").get_data(as_text=True)
    assert path in login_page
    assert client.post("/login", data=_login_form(owner, path)).headers["Location"] == path
    assert "Add your membership to your account" in client.get(path).get_data(as_text=True)

    assert client.post(path).headers["Location"] == "/account"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    memberships = db.session.scalars(select(Membership)).all()
    assert {m.user_id for m in memberships} == {owner.id}
    assert db.session.get(User, owner.id).stripe_customer_id.startswith("cus_")
    # One person, counted once, and the dated history agrees with the counter.
    assert get_progress().members == 1 == recount_members()
    history = db.session.scalar(select(func.sum(MemberChange.delta)))
    assert history == (1 if not already_member else 0)  # the factory's membership has no history
    assert client.get(path).status_code == 400


def _login_form(user, next_url: str) -> dict[str, str]:
    return {"email": user.email, "password": DEFAULT_PASSWORD, "next": next_url}


def test_a_tampered_or_foreign_link_claims_nothing(client, db, emulator, mail_log):
    pay_membership(client, emulator, email="reader@example.org")
    path = _claim_path(mail_log, "reader@example.org")
    assert client.get(path[:-3] + "abc").status_code == 400
    assert client.post(path[:-3] + "abc", data={"password": PASSWORD}).status_code == 400
    assert db.session.scalar(select(User)).has_login is False


def test_a_logged_in_member_gets_no_claim_link(client, db, emulator, mail_log):
    login(client, make_user(email="known@example.org"))
    pay_membership(client, emulator)
    assert not [m for m in mails(mail_log) if "/account/claim/" in m]


def test_the_thanks_page_sends_the_link_again(client, db, emulator, mail_log):
    session_id = pay_membership(client, emulator, email="again@example.org")
    response = client.post("/support/thanks/link", data={"session_id": session_id})
    assert response.status_code == 303
    response.close()
    links = [m for m in _mails_to(mail_log, "again@example.org", 2) if LINK.search(m)]
    assert len(links) == 2
    assert "sent the link again to again@example.org" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    nothing = client.post("/support/thanks/link", data={"session_id": "cs_unknown"})
    assert nothing.status_code == 303


def test_only_the_paying_browser_sees_the_address_or_has_the_link_sent_again(
    app, client, db, emulator, mail_log
):
    session_id = pay_membership(client, emulator, email="private@example.org")
    thanks = f"/support/thanks?session_id={session_id}"
    assert "private@example.org" in client.get(thanks).get_data(as_text=True)
    # The id travels in the thanks URL and the browser's history; another browser has it.
    stranger = app.test_client()
    assert "private@example.org" not in stranger.get(thanks).get_data(as_text=True)
    response = stranger.post("/support/thanks/link", data={"session_id": session_id})
    assert response.status_code == 303
    page = stranger.get(response.headers["Location"]).get_data(as_text=True)
    assert "private@example.org" not in page
    assert "no account link to send" in page
    written = db.session.scalars(select(OutboxMail.recipient)).all()
    assert written.count("private@example.org") == 1  # the claim mail of the payment alone


def test_renewals_and_the_portal_follow_the_membership_to_the_account(
    client, db, emulator, mail_log
):
    owner = make_user(email="renews@example.org")
    pay_membership(client, emulator, email="renews@example.org")
    login(client, owner)
    assert client.post(_claim_path(mail_log, "renews@example.org")).status_code == 302
    (subscription,) = emulator.list_objects("subscription")
    emulator.renew(subscription["id"])
    emulator.deliver_pending()
    db.session.expire_all()
    donations = db.session.scalars(select(Donation).order_by(Donation.paid_at)).all()
    assert [(d.kind, d.user_id) for d in donations] == [
        ("membership_first", owner.id),
        ("membership_renewal", owner.id),
    ]
    assert get_progress().members == 1 == recount_members()
    # The account holds the Stripe customer now: "Manage membership" opens its portal.
    portal = client.post("/account/billing")
    assert portal.status_code == 303 and "/_emulator/portal/" in portal.headers["Location"]


def test_an_account_paying_through_another_customer_gets_the_membership_once(
    client, db, emulator, mail_log
):
    owner = make_user(email="two@example.org", stripe_customer_id="cus_owner_gift")
    pay_membership(client, emulator, email="two@example.org")
    path = _claim_path(mail_log, "two@example.org")
    login(client, owner)
    assert client.post(path).headers["Location"] == "/account"
    db.session.expire_all()
    # The account keeps its own customer; the Stripe-only supporter keeps the new one (later
    # facts find the membership by its subscription) and loses the address the link was for.
    supporter = db.session.scalar(select(User).where(User.id != owner.id))
    assert (supporter.stripe_customer_id.startswith("cus_"), supporter.billing_email) == (
        True,
        None,
    )
    assert db.session.scalar(select(Membership)).user_id == owner.id
    assert client.get(path).status_code == 400  # spent
    assert client.post(path).status_code == 400


def test_with_the_webhook_queue_the_worker_sends_the_link(make_app, mail_log):
    from donations.payments.queue import work

    app = make_app(WEBHOOK_QUEUE="1")
    with app.app_context():
        client = app.test_client()
        emulator = app.extensions["stripe_emulator"]
        hooks = app.test_client()

        def transport(url, body, headers, timeout):
            response = hooks.post("/stripe/webhook", data=body, headers=headers)
            response.close()
            return response.status_code

        emulator.deliverer.transport = transport
        pay_membership(client, emulator, email="queued@example.org")
        assert not [m for m in mails(mail_log) if "queued@example.org" in m]  # stored only
        config = app.config
        work(
            livemode=not config["STRIPE_TEST_MODE"],
            installation=config["INSTALLATION_TAG"],
            stop=lambda: False,
            once=True,
        )
        assert _claim_path(mail_log, "queued@example.org").startswith("/account/claim/")


def test_the_thanks_page_counts_the_new_member_though_a_racing_read_cached_the_old_number(
    make_app, db, mail_log
):
    # A page read that started before the member's count committed may put the old number
    # back into the cache after the commit dropped it (for up to CACHE_SECONDS).
    app = make_app(CACHE_SECONDS=3600)
    with app.app_context():
        client = app.test_client()
        emulator = app.extensions["stripe_emulator"]
        webhook_client = app.test_client()
        emulator.deliverer.transport = lambda url, body, headers, timeout: (
            webhook_client.post("/stripe/webhook", data=body, headers=headers).status_code
        )
        session_id = pay_membership(client, emulator, email="raced@example.org")
        assert get_progress().members == 1  # now cached for an hour
        # The cache now holds an older number than the counter, as after such a race.
        db.session.execute(text("UPDATE member_counter SET members = 2"))
        db.session.commit()
        assert get_progress().members == 1
        thanks = client.get(f"/support/thanks?session_id={session_id}").get_data(as_text=True)
        assert re.search(r'class="tracker-count">\s*<strong>2</strong>', thanks)
        status = client.get(f"/support/thanks/status?session_id={session_id}").json
        assert status["confirmed"] and status["members"] == 2


def test_the_thanks_page_offers_share_links_without_third_party_scripts(client, db, emulator):
    session_id = pay_membership(client, emulator, email="sharer@example.org")
    html = client.get(f"/support/thanks?session_id={session_id}").get_data(as_text=True)
    share = re.search(r'<ul class="share".*?</ul>', html, re.S).group(0)
    tags = re.findall(r'<a href="([^"]+)"([^>]*)>(\w+)', share)
    assert [name for _, _, name in tags] == ["Email", "Bluesky", "X", "Facebook", "WhatsApp"]
    url, attrs, _ = tags[0]
    assert url.startswith("mailto:?subject=") and "localhost%2Fsupport" in url
    # Mail opens the reader's mail program: no new tab; the others open one, without opener.
    assert attrs == ""
    assert all('target="_blank"' in a and "noopener" in a for _, a, _ in tags[1:])
    assert '<script src="http' not in html
