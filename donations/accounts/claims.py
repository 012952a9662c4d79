"""Pay first, account after: a supporter who paid without an account claims it by email link.

Checkout collects an address; the webhook makes a Stripe-only supporter (no login). We mail
that address a signed, expiring, single-use link. Following it is the proof of ownership:
it turns the supporter into an account with that email (and logs it in). When an account of
that address exists, the link never logs into it: the reader signs in to that account first
(the link survives the login as its `next`), and only then are the supporter's memberships
and payments moved onto it; never onto a staff account. The account's new password or "log
out everywhere" ends the link (accounts.tokens). Nothing is linked by email alone without
the link. Services flush and put mail in the outbox; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from donations.accounts.passwords import hash_password, password_problems
from donations.accounts.services import AccountError, Outcome, email_key, find_user, normalise_email
from donations.accounts.tokens import CLAIM_MAX_AGE, make_claim_token, read_claim_token, spend
from donations.core import outbox
from donations.extensions import db
from donations.mail import Message, compose
from donations.membership.records import CLAIM_SUBJECT, queue_claim_mail
from donations.membership.services import has_active_membership
from donations.membership.transitions import lock_person, record_member_change
from donations.models import CheckoutAttempt, Donation, MemberChange, Membership, User, utcnow
from donations.money import format_money

CLAIM_LINK_INVALID = "This link has expired or was already used. Log in, or reset your password."
CLAIM_NEEDS_LOGIN = "Log in as {email} first; then the membership joins that account."
CLAIM_OTHER_LOGIN = "You're logged in as another account: log out, then set up {email}."
CLAIM_NOT_FOR_STAFF = (
    "This address belongs to a staff account, which a link cannot change. The payment is "
    "recorded and counted; another member of staff can help."
)


@dataclass(frozen=True)
class Claim:
    """A valid claim link: whom it is for, and the existing account of that address if any."""

    supporter: User
    email: str
    account: User | None

    @property
    def for_staff(self) -> bool:
        """True when the address is a staff account's: no link may touch it."""
        return self.account is not None and self.account.is_staff

    def signed_in_as_account(self, user: User | None) -> bool:
        """True when `user` is the existing account of the address, signed in."""
        return self.account is not None and user is not None and user.id == self.account.id


def claim_for_token(token: str) -> Claim | None:
    """What a claim link would do, or None when it is tampered with, expired or spent."""
    found = read_claim_token(token)
    if found is None:
        return None
    email = email_key(found.email)
    account = find_user(email)
    if not found.still_holds_for(account):  # its password changed, or "log out everywhere"
        return None
    return Claim(supporter=found.supporter, email=email, account=account)


def claim_link(supporter: User) -> str:
    """The absolute claim link for a Stripe-only supporter."""
    account = find_user(email_key(supporter.billing_email or ""))
    token = make_claim_token(supporter, account)
    return f"{current_app.config['SITE_URL']}/account/claim/{token}"


def claim_mail(context: dict[str, Any]) -> Message | None:
    """Render the outbox's claim mail (receipt and link) for an unclaimed membership's attempt;
    None once it no longer applies (claimed meanwhile, or the completion was undone)."""
    attempt = db.session.get(CheckoutAttempt, context["attempt_id"])
    if attempt is None or attempt.status != "complete" or attempt.user_id is None:
        return None
    supporter = db.session.get(User, attempt.user_id)
    if supporter is None or supporter.has_login or not supporter.billing_email:
        return None
    return compose(
        "membership_welcome.txt",
        to=supporter.billing_email,
        subject=CLAIM_SUBJECT,
        amount=format_money(attempt.amount, attempt.currency),
        interval=attempt.interval,
        link=claim_link(supporter),
        days=CLAIM_MAX_AGE // 86400,
    )


@dataclass(frozen=True)
class Resent:
    """A claim mail put in the outbox again: to whom, and its row."""

    to: str
    mail_id: int | None


def resend_claim_mail(session_id: str) -> Resent | None:
    """The claim email again, for an unclaimed membership paid in this Checkout Session."""
    attempt = db.session.scalar(
        select(CheckoutAttempt).where(CheckoutAttempt.stripe_session_id == session_id)
    )
    if attempt is None or attempt.status != "complete" or attempt.interval == "once":
        return None
    supporter = db.session.get(User, attempt.user_id) if attempt.user_id else None
    if supporter is None or supporter.has_login or not supporter.billing_email:
        return None
    mail_id = queue_claim_mail(attempt, supporter.billing_email, outbox.new_key("claim-again"))
    return Resent(to=supporter.billing_email, mail_id=mail_id)


def claim(token: str, password: str = "", name: str = "", signed_in: User | None = None) -> Outcome:
    """Make the account (new address), or attach to the existing one once it is signed in
    (`signed_in`); the link is spent."""
    found = claim_for_token(token)
    if found is None:
        return Outcome(errors={"token": [CLAIM_LINK_INVALID]})
    if found.for_staff:
        return Outcome(errors={"token": [CLAIM_NOT_FOR_STAFF]})
    if found.account is not None and not found.signed_in_as_account(signed_in):
        return Outcome(errors={"login": [CLAIM_NEEDS_LOGIN.format(email=found.email)]})
    if found.account is None and signed_in is not None:
        # Someone else's login: the link never switches a browser to another person.
        return Outcome(errors={"login": [CLAIM_OTHER_LOGIN.format(email=found.email)]})
    if found.account is None and (problems := _account_problems(found.email, password)):
        return Outcome(errors=problems)  # the form again, the link unspent
    if not spend(found.supporter):
        return Outcome(errors={"token": [CLAIM_LINK_INVALID]})
    # Read again under the row lock, past the identity map (which holds the row as it was
    # before): what attach and _become_account change is the row as it is now.
    supporter = db.session.scalar(
        select(User)
        .where(User.id == found.supporter.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if supporter is None:
        return Outcome(errors={"token": [CLAIM_LINK_INVALID]})
    if found.account is not None:
        return Outcome(user=attach(found.account, supporter))
    return _become_account(supporter, found.email, password, name)


def _account_problems(email: str, password: str) -> dict[str, list[str]]:
    try:
        email = normalise_email(email)
    except AccountError as exc:
        return {"token": [str(exc)]}
    if problems := password_problems(password, email):
        return {"password": problems}
    return {}


def _become_account(supporter: User, email: str, password: str, name: str) -> Outcome:
    email = normalise_email(email)  # checked by _account_problems
    try:
        with db.session.begin_nested():  # someone signed up with this address meanwhile
            supporter.email = email
            supporter.password_hash = hash_password(password)
            supporter.name = (name or "").strip() or supporter.name
            db.session.flush()
    except IntegrityError:
        return Outcome(errors={"token": [CLAIM_LINK_INVALID]})
    return Outcome(user=supporter)


def attach(account: User, supporter: User) -> User:
    """Move a Stripe-only supporter's memberships and payments onto an account."""
    first, second = sorted((account.id, supporter.id))
    lock_person(first)
    lock_person(second)
    both_members = has_active_membership(account.id) and has_active_membership(supporter.id)
    for model in (Membership, Donation, CheckoutAttempt, MemberChange):
        db.session.execute(
            update(model).where(model.user_id == supporter.id).values(user_id=account.id)
        )
    if both_members:  # one person now, counted once
        record_member_change(account.id, None, -1, utcnow())
    customer_id = supporter.stripe_customer_id
    if account.stripe_customer_id is None and customer_id:
        # Later facts about this customer then find the account directly.
        db.session.delete(supporter)
        db.session.flush()
        account.stripe_customer_id = customer_id
    else:
        # The account pays through another customer already; the supporter row keeps this
        # one (renewals follow the membership's person), and the spent address spends the link.
        supporter.billing_email = None
    db.session.flush()
    return account
