"""Account rules and queries: sign-up, login, password reset, staff. No request code here.

Services flush; the caller commits once. Mail is returned, never sent, so the caller can
send it after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from donations.accounts.passwords import (
    burn_verification_time,
    hash_password,
    password_problems,
    verify_password,
)
from donations.accounts.sessions import close_all_sessions
from donations.accounts.tokens import RESET_MAX_AGE, make_reset_token, user_for_reset_token
from donations.core import outbox
from donations.extensions import db
from donations.mail import compose
from donations.membership.services import (
    MembershipView,
    donations_of,
    member_since,
    memberships_of,
)
from donations.models import Donation, User, utcnow

SIGNUP_SENT = "Check your email: we've sent a message to {email}."


LOGIN_FAILED = (
    "That email and password don't match an account. Check both and try again, "
    "or reset your password."
)

RESET_LINK_INVALID = "This reset link has expired or was already used."


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is for the person."""


@dataclass
class Outcome:
    """What a form-backed service did: the user, or messages per form field."""

    user: User | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    mail: list[int | None] = field(default_factory=list)  # outbox rows to try after the commit


@dataclass(frozen=True)
class AccountOverview:
    """What the account page shows; later features add their sections here."""

    email: str
    name: str
    is_staff: bool
    account_since: datetime
    member_since: datetime | None  # the start of the membership that counts now, if one does
    last_login_at: datetime | None
    memberships: list[MembershipView] = field(default_factory=list)
    donations: list[Donation] = field(default_factory=list)

    @property
    def is_member(self) -> bool:
        """True when any membership makes this person a member."""
        return any(m.is_member for m in self.memberships)


def normalise_email(raw: str) -> str:
    """Trim, validate and lowercase an address; AccountError explains what is wrong."""
    try:
        info = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"Enter an email address like name@example.org. {exc}") from None
    return info.normalized.lower()


def email_key(raw: str) -> str:
    """A forgiving normalisation for rate-limit keys: never fails."""
    try:
        return normalise_email(raw)
    except AccountError:
        return (raw or "").strip().lower()


def find_user(email: str) -> User | None:
    """The user with this (already normalised) email, if any."""
    return db.session.scalar(select(User).where(User.email == email))


def sign_up(email: str, password: str, name: str = "") -> Outcome:
    """Create an account, or say which fields need another look.

    A registered address gets no error and no account: the same answer as a new one, after
    the same password-hashing work, and an email with a sign-in and a reset link. Only the
    address's owner learns that it was registered (design: no account enumeration).
    """
    errors: dict[str, list[str]] = {}
    try:
        email = normalise_email(email)
    except AccountError as exc:
        errors["email"] = [str(exc)]
    if problems := password_problems(password, email):
        errors["password"] = problems
    if errors:
        return Outcome(errors=errors)
    existing = find_user(email)
    if existing is not None:
        burn_verification_time(password)  # as long as hashing a new account's password
        return Outcome(mail=[_existing_account_mail(existing)])
    user = User(email=email, name=(name or "").strip(), password_hash=hash_password(password))
    try:
        with db.session.begin_nested():  # two sign-ups racing for one email: one wins
            db.session.add(user)
    except IntegrityError:
        winner = find_user(email)
        return Outcome(mail=[_existing_account_mail(winner)] if winner else [])
    db.session.flush()  # the user's id, for the welcome's key
    welcome = compose("welcome.txt", to=user.email, subject="Your account is ready", user=user)
    return Outcome(user=user, mail=[outbox.enqueue(f"signup:{user.id}", welcome)])


def _existing_account_mail(user: User) -> int | None:
    """Tell an address's owner that someone tried to sign up with it, and how to get in."""
    site = current_app.config["SITE_URL"]
    message = compose(
        "signup_existing.txt",
        to=user.email,
        subject="You already have an account",
        user=user,
        login_link=f"{site}/login",
        reset_link=f"{site}/password/reset/{make_reset_token(user)}",
        minutes=RESET_MAX_AGE // 60,
    )
    return outbox.enqueue(outbox.new_key("signup-existing"), message)


def log_in(email: str, password: str) -> Outcome:
    """The user when email and password match (and record the login), else why not."""
    try:
        user = find_user(normalise_email(email))
    except AccountError as exc:
        return Outcome(errors={"email": [str(exc)]})
    if user is None or user.password_hash is None:
        burn_verification_time(password)  # unknown and known emails take as long
        return Outcome(errors={"login": [LOGIN_FAILED]})
    if not verify_password(user.password_hash, password):
        return Outcome(errors={"login": [LOGIN_FAILED]})
    user.last_login_at = utcnow()
    db.session.flush()
    return Outcome(user=user)


def account_overview(user: User) -> AccountOverview:
    """Everything the account page shows about this person."""
    memberships = memberships_of(user.id)
    return AccountOverview(
        email=user.email,
        name=user.name,
        is_staff=user.is_staff,
        account_since=user.created_at,
        member_since=member_since(memberships),
        last_login_at=user.last_login_at,
        memberships=memberships,
        donations=donations_of(user.id),
    )


def request_password_reset(email: str) -> Outcome:
    """A reset email for a known address; the outcome never says whether it was known."""
    try:
        user = find_user(normalise_email(email))
    except AccountError as exc:
        return Outcome(errors={"email": [str(exc)]})
    if user is None:
        return Outcome()
    link = f"{current_app.config['SITE_URL']}/password/reset/{make_reset_token(user)}"
    message = compose(
        "password_reset.txt",
        to=user.email,
        subject="Reset your password",
        user=user,
        link=link,
        minutes=RESET_MAX_AGE // 60,
    )
    return Outcome(mail=[outbox.enqueue(outbox.new_key("reset"), message)])


def reset_token_is_valid(token: str) -> bool:
    """True while a reset link can still be used."""
    return user_for_reset_token(token) is not None


def reset_password(token: str, password: str) -> Outcome:
    """Set a new password through a reset token; the token is spent by the change."""
    user = user_for_reset_token(token)
    if user is None:
        return Outcome(errors={"token": [RESET_LINK_INVALID]})
    if problems := password_problems(password, user.email):
        return Outcome(errors={"password": problems})
    set_password(user, password)
    notice = compose(
        "password_changed.txt", to=user.email, subject="Your password was changed", user=user
    )
    return Outcome(user=user, mail=[outbox.enqueue(outbox.new_key("password-changed"), notice)])


def set_password(user: User, password: str) -> None:
    """Store a new password hash and end every login session of the user."""
    user.password_hash = hash_password(password)
    close_all_sessions(user)
    db.session.flush()


def make_staff(email: str, password: str | None = None) -> tuple[User, bool]:
    """Create a staff account or promote an existing one; returns (user, created)."""
    email = normalise_email(email)
    user = find_user(email)
    if password is not None and (problems := password_problems(password, email)):
        raise AccountError(" ".join(problems))
    created = user is None
    if user is None:
        if password is None:
            raise AccountError("A new staff account needs a password.")
        user = User(email=email, password_hash=hash_password(password))
        db.session.add(user)
    elif password is not None:
        set_password(user, password)
    user.is_staff = True
    db.session.flush()
    return user, created
