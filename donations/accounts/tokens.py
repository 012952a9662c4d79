"""Signed, expiring, single-use tokens: password reset, sign-in links, claiming a membership.

A token names a user and their token fingerprint (models.User.token_fingerprint): a digest
of the person's own random token secret, their token generation and their password hash.
Setting a password or "log out everywhere" moves it on, so every outstanding link of that
person stops working. A claim token also names the address Checkout collected and, when an
account of that address existed, that account's fingerprint: the account's new password or
"log out everywhere" ends the link too. Claiming moves the address off the Stripe-only
supporter, so a spent claim link fails even when the supporter row remains.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update

from donations.extensions import db
from donations.models import User

RESET_SALT = "donations.password-reset"
RESET_MAX_AGE = 60 * 60  # one hour, in seconds
LOGIN_LINK_SALT = "donations.login-link"
LOGIN_LINK_MAX_AGE = 15 * 60  # fifteen minutes, in seconds: it logs in without a password
CLAIM_SALT = "donations.claim-membership"
CLAIM_MAX_AGE = 14 * 24 * 60 * 60  # two weeks: a receipt email may wait unread for a while


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint_holds(user: User | None, given: object) -> bool:
    return user is not None and hmac.compare_digest(user.token_fingerprint(), str(given))


def _load(token: str, salt: str, max_age: int) -> tuple[User, dict] | None:
    """The user a token names and its data, when signature, age and fingerprint hold."""
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a subclass
        return None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = db.session.get(User, data["user"])
    if user is None or not _fingerprint_holds(user, data.get("fp")):
        return None
    return user, data


def make_reset_token(user: User) -> str:
    """A URL-safe token that lets this user set a new password within the hour."""
    return _serializer(RESET_SALT).dumps({"user": user.id, "fp": user.token_fingerprint()})


def user_for_reset_token(token: str) -> User | None:
    """The user a token is valid for, or None when it is tampered with, expired or used."""
    loaded = _load(token, RESET_SALT, RESET_MAX_AGE)
    return loaded[0] if loaded else None


def make_login_token(user: User) -> str:
    """A URL-safe token that logs this user in once within fifteen minutes."""
    return _serializer(LOGIN_LINK_SALT).dumps({"user": user.id, "fp": user.token_fingerprint()})


def user_for_login_token(token: str) -> User | None:
    """The user a sign-in link logs in, or None when it is tampered with, expired or spent."""
    loaded = _load(token, LOGIN_LINK_SALT, LOGIN_LINK_MAX_AGE)
    return loaded[0] if loaded else None


def make_claim_token(supporter: User, account: User | None = None) -> str:
    """A token that lets whoever reads supporter.billing_email's mail claim this supporter.

    `account`: the account that address already has, if any; the token then ends with it.
    """
    data = {
        "user": supporter.id,
        "fp": supporter.token_fingerprint(),
        "email": supporter.billing_email,
    }
    if account is not None:
        data.update(account=account.id, account_fp=account.token_fingerprint())
    return _serializer(CLAIM_SALT).dumps(data)


@dataclass(frozen=True)
class ClaimToken:
    """What a valid claim token names: the supporter, the address, and the account it knew."""

    supporter: User
    email: str
    account_id: int | None
    account_fp: str | None

    def still_holds_for(self, account: User | None) -> bool:
        """False when the account the token was made for changed its password or ended its
        sessions everywhere, or is not the account this address has now."""
        if self.account_id is None:
            return True  # no account then: one made since must be signed in to (claims.py)
        if account is None or account.id != self.account_id:
            return False
        return _fingerprint_holds(account, self.account_fp)


def read_claim_token(token: str) -> ClaimToken | None:
    """The unclaimed Stripe-only supporter and the address a claim token was sent to."""
    loaded = _load(token, CLAIM_SALT, CLAIM_MAX_AGE)
    if loaded is None:
        return None
    supporter, data = loaded
    email = data.get("email")
    if supporter.has_login or not email or supporter.billing_email != email:
        return None
    account_id = data.get("account")
    if account_id is not None and not isinstance(account_id, int):
        return None
    return ClaimToken(supporter, email, account_id, data.get("account_fp"))


def spend(user: User) -> bool:
    """Spend the link read for `user` in one conditional write, before anything else: exactly
    one of several racing requests changes the row, on any database (SQLite has no row locks,
    and a read made before another request's commit would let both through).

    The link was made for the user's token generation; spending it moves the generation on
    (ending the user's other mailed links too), so the one guard is that it is still the one
    the link was checked against.
    """
    spent = db.session.execute(
        update(User)
        .where(User.id == user.id, User.token_generation == user.token_generation)
        .values(token_generation=User.token_generation + 1)
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1
