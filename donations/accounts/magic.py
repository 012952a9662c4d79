"""Sign in by emailed link, beside the password: signed, fifteen minutes, single use.

The link names the user and their token fingerprint (accounts.tokens), so a new password or
"log out everywhere" ends it. Opening it only shows a button (mail scanners prefetch links);
the POST spends it with the conditional write that makes claim links single-use, so of two
racing uses exactly one logs in. Services flush and put mail in the outbox; the caller commits.
"""

from __future__ import annotations

from flask import current_app

from donations.accounts.services import AccountError, Outcome, find_user, normalise_email
from donations.accounts.tokens import (
    LOGIN_LINK_MAX_AGE,
    make_login_token,
    spend,
    user_for_login_token,
)
from donations.core import outbox
from donations.extensions import db
from donations.mail import compose
from donations.models import User, utcnow

LOGIN_LINK_INVALID = "This sign-in link has expired or was already used."
LOGIN_LINK_SENT = "If an account exists for {email}, we've emailed it a sign-in link."


def request_login_link(email: str) -> Outcome:
    """A sign-in mail for a known address; the outcome never says whether it was known."""
    try:
        user = find_user(normalise_email(email))
    except AccountError as exc:
        return Outcome(errors={"email": [str(exc)]})
    if user is None or not user.has_login:
        return Outcome()  # the same answer; nothing is sent (as for a password reset)
    link = f"{current_app.config['SITE_URL']}/login/link/{make_login_token(user)}"
    message = compose(
        "login_link.txt",
        to=user.email,
        subject="Your sign-in link",
        user=user,
        link=link,
        minutes=LOGIN_LINK_MAX_AGE // 60,
    )
    return Outcome(mail=[outbox.enqueue(outbox.new_key("login-link"), message)])


def login_link_user(token: str) -> User | None:
    """Whom a sign-in link would log in, without spending it; None when it no longer works."""
    user = user_for_login_token(token)
    return user if user is not None and user.has_login else None


def log_in_by_link(token: str) -> Outcome:
    """Spend a sign-in link and record the login; of racing uses, exactly one gets the user."""
    user = login_link_user(token)
    if user is None or not spend(user):
        return Outcome(errors={"token": [LOGIN_LINK_INVALID]})
    db.session.expire(user, ["token_generation"])  # moved on in SQL by spend()
    user.last_login_at = utcnow()
    db.session.flush()
    return Outcome(user=user)
