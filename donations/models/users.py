"""User accounts: readers, supporters who signed up, and staff."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column

from donations.models.base import Base, utcnow


class User(UserMixin, Base):
    """A supporter: a person with a login, or a Stripe customer we have seen (no login).

    Our user id is the supporter's key; the Stripe customer id is a unique secondary key.
    A Stripe-only supporter has no email login and no password: the email Stripe gave us
    is kept apart in billing_email, so it can never claim or block an account's email.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("length(email) > 2", name="email_not_empty"),
        CheckConstraint(
            "(email IS NULL) = (password_hash IS NULL)", name="login_has_email_and_password"
        ),
        CheckConstraint(
            "email IS NOT NULL OR stripe_customer_id IS NOT NULL", name="known_somehow"
        ),
        CheckConstraint("token_generation >= 0", name="token_generation_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(300))
    billing_email: Mapped[str | None] = mapped_column(String(320))
    is_staff: Mapped[bool] = mapped_column(default=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Emailed links (password reset, claim) carry a digest of these: a random secret of the
    # person's own (so a supporter without a password has no guessable digest) and a counter
    # that a new password and "log out everywhere" move on, ending every link sent before.
    token_secret: Mapped[str] = mapped_column(String(32), default=lambda: new_token_secret())
    token_generation: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    def token_fingerprint(self) -> str:
        """A short digest that changes with the password and with every token generation."""
        material = f"{self.token_secret}:{self.token_generation}:{self.password_hash or ''}"
        return hashlib.sha256(material.encode()).hexdigest()[:20]

    # The login session this object was loaded for ("<user id>:<key>", accounts.sessions).
    session_id = None  # not a column: set per loaded instance

    def get_id(self) -> str:
        """Flask-Login's session id: the server-side login session, or one that matches none."""
        return self.session_id or f"{self.id}:"

    @property
    def has_login(self) -> bool:
        """False for a supporter we only know from Stripe."""
        return self.password_hash is not None

    @property
    def contact_email(self) -> str | None:
        """The address to show staff: the login email, else the one Stripe gave us."""
        return self.email or self.billing_email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.contact_email!r}{' staff' if self.is_staff else ''}>"


def new_token_secret() -> str:
    """A fresh random token secret (128 bits, hex)."""
    return secrets.token_hex(16)
