"""Signed, expiring, single-use password-reset tokens.

A token names the user and a fingerprint of their current password hash. Setting a new
password changes the hash, so the token (and every other outstanding one) stops working.
"""

from __future__ import annotations

import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from donations.extensions import db
from donations.models import User

RESET_SALT = "donations.password-reset"
RESET_MAX_AGE = 60 * 60  # one hour, in seconds


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def make_reset_token(user: User) -> str:
    """A URL-safe token that lets this user set a new password within the hour."""
    return _serializer().dumps({"user": user.id, "fp": user.password_fingerprint()})


def user_for_reset_token(token: str) -> User | None:
    """The user a token is valid for, or None when it is tampered with, expired or used."""
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE)
    except BadSignature:  # SignatureExpired is a subclass
        return None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = db.session.get(User, data["user"])
    if user is None or not hmac.compare_digest(user.password_fingerprint(), str(data.get("fp"))):
        return None
    return user
