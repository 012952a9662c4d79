"""Signed, expiring, single-use tokens: password reset, and claiming a paid membership.

A token names a user and a fingerprint of their current password hash. Setting a password
changes the hash, so the token (and every other outstanding one) stops working. A claim
token also names the address Checkout collected; claiming moves that address off the
Stripe-only supporter, so a spent claim link fails even when the supporter row remains.
"""

from __future__ import annotations

import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from donations.extensions import db
from donations.models import User

RESET_SALT = "donations.password-reset"
RESET_MAX_AGE = 60 * 60  # one hour, in seconds
CLAIM_SALT = "donations.claim-membership"
CLAIM_MAX_AGE = 14 * 24 * 60 * 60  # two weeks: a receipt email may wait unread for a while


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _load(token: str, salt: str, max_age: int) -> tuple[User, dict] | None:
    """The user a token names and its data, when signature, age and fingerprint hold."""
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a subclass
        return None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = db.session.get(User, data["user"])
    if user is None or not hmac.compare_digest(user.password_fingerprint(), str(data.get("fp"))):
        return None
    return user, data


def make_reset_token(user: User) -> str:
    """A URL-safe token that lets this user set a new password within the hour."""
    return _serializer(RESET_SALT).dumps({"user": user.id, "fp": user.password_fingerprint()})


def user_for_reset_token(token: str) -> User | None:
    """The user a token is valid for, or None when it is tampered with, expired or used."""
    loaded = _load(token, RESET_SALT, RESET_MAX_AGE)
    return loaded[0] if loaded else None


def make_claim_token(supporter: User) -> str:
    """A token that lets whoever reads supporter.billing_email's mail claim this supporter."""
    return _serializer(CLAIM_SALT).dumps(
        {
            "user": supporter.id,
            "fp": supporter.password_fingerprint(),
            "email": supporter.billing_email,
        }
    )


def supporter_for_claim_token(token: str) -> tuple[User, str] | None:
    """The unclaimed Stripe-only supporter and the address a claim token was sent to."""
    loaded = _load(token, CLAIM_SALT, CLAIM_MAX_AGE)
    if loaded is None:
        return None
    supporter, data = loaded
    email = data.get("email")
    if supporter.has_login or not email or supporter.billing_email != email:
        return None
    return supporter, email
