"""Pay first, account after: a supporter who paid without an account claims it by email link.

Checkout collects an address; the webhook makes a Stripe-only supporter (no login). We mail
that address a signed, expiring, single-use link. Following it is the proof of ownership:
it turns the supporter into an account with that email, or, when an account of that address
exists, moves the supporter's memberships and payments onto it. Nothing is linked by email
alone without the link. Services flush; the caller commits and sends the mail after.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from donations.accounts.passwords import hash_password, password_problems
from donations.accounts.services import AccountError, Outcome, email_key, find_user, normalise_email
from donations.accounts.tokens import CLAIM_MAX_AGE, make_claim_token, supporter_for_claim_token
from donations.extensions import db
from donations.mail import Message, compose
from donations.membership.services import has_active_membership
from donations.membership.transitions import lock_person, record_member_change
from donations.models import CheckoutAttempt, Donation, MemberChange, Membership, User, utcnow
from donations.money import format_money

CLAIM_LINK_INVALID = "This link has expired or was already used. Log in, or reset your password."


@dataclass(frozen=True)
class Claim:
    """A valid claim link: whom it is for, and the existing account of that address if any."""

    supporter: User
    email: str
    account: User | None


def claim_for_token(token: str) -> Claim | None:
    """What a claim link would do, or None when it is tampered with, expired or spent."""
    found = supporter_for_claim_token(token)
    if found is None:
        return None
    supporter, email = found
    return Claim(supporter=supporter, email=email_key(email), account=find_user(email_key(email)))


def claim_link(supporter: User) -> str:
    """The absolute claim link for a Stripe-only supporter."""
    return f"{current_app.config['SITE_URL']}/account/claim/{make_claim_token(supporter)}"


def welcome_mails(attempt_ids: list[int]) -> list[Message]:
    """The receipt emails, with a claim link, for memberships paid without an account."""
    mails = []
    for attempt in db.session.scalars(
        select(CheckoutAttempt).where(CheckoutAttempt.id.in_(set(attempt_ids)))
    ):
        # A completion that a failed event's savepoint undid left its note behind: skip it.
        if attempt.status != "complete":
            continue
        supporter = db.session.get(User, attempt.user_id) if attempt.user_id else None
        if supporter is None or supporter.has_login or not supporter.billing_email:
            continue
        mails.append(
            compose(
                "membership_welcome.txt",
                to=supporter.billing_email,
                subject="Welcome: your membership receipt and account link",
                amount=format_money(attempt.amount, attempt.currency),
                interval=attempt.interval,
                link=claim_link(supporter),
                days=CLAIM_MAX_AGE // 86400,
            )
        )
    return mails


def resend_claim_mail(session_id: str) -> Message | None:
    """The claim email again, for an unclaimed membership paid in this Checkout Session."""
    attempt = db.session.scalar(
        select(CheckoutAttempt).where(CheckoutAttempt.stripe_session_id == session_id)
    )
    if attempt is None or attempt.status != "complete" or attempt.interval == "once":
        return None
    mails = welcome_mails([attempt.id])
    return mails[0] if mails else None


def claim(token: str, password: str = "", name: str = "") -> Outcome:
    """Make the account (new address) or attach to the existing one; the link is spent."""
    found = claim_for_token(token)
    if found is None:
        return Outcome(errors={"token": [CLAIM_LINK_INVALID]})
    supporter = db.session.scalar(
        select(User).where(User.id == found.supporter.id).with_for_update()
    )
    if supporter is None or supporter.has_login:  # a double click already claimed it
        return Outcome(errors={"token": [CLAIM_LINK_INVALID]})
    if found.account is not None:
        return Outcome(user=attach(found.account, supporter))
    return _become_account(supporter, found.email, password, name)


def _become_account(supporter: User, email: str, password: str, name: str) -> Outcome:
    try:
        email = normalise_email(email)
    except AccountError as exc:
        return Outcome(errors={"token": [str(exc)]})
    if problems := password_problems(password, email):
        return Outcome(errors={"password": problems})
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
