"""The supporter flow: price a reader's choice, start Checkout, report how it went."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from sqlalchemy import select

from donations.articles.services import published_view
from donations.currencies import to_minor
from donations.extensions import db
from donations.fees import Fee, fee_for
from donations.membership.services import has_active_membership
from donations.models import TERMINAL_STATUSES, CheckoutAttempt, Membership, User, utcnow
from donations.money import format_money, major
from donations.payments.gateway import get_gateway
from donations.payments.types import CheckoutRequest, CheckoutSession, PaymentError
from donations.support.options import action_label


class AlreadyMember(Exception):
    """The reader already has a membership; they should manage it instead."""


@dataclass(frozen=True)
class Choice:
    """A validated choice: interval, amount (before any fee), currency and fee."""

    interval: str
    amount: int  # minor units the reader chose
    currency: str
    cover_fee: bool
    article: str | None
    attempt: str
    card_fee: Fee  # the currency's card fee (STRIPE_FEE_TABLE), if the reader covers it

    @property
    def fee_amount(self) -> int:
        """The extra the reader adds to cover the card fee (0 if they don't)."""
        return fee_for(self.amount, self.card_fee) if self.cover_fee else 0

    @property
    def gross(self) -> int:
        """What will be charged each time."""
        return self.amount + self.fee_amount

    @property
    def is_membership(self) -> bool:
        """Monthly or yearly: a membership (an account comes after paying, if not before)."""
        return self.interval != "once"

    @property
    def label(self) -> str:
        """What the button said."""
        return action_label(self.interval, self.gross, self.currency)


def choice_query(choice: Choice) -> dict[str, str]:
    """Query parameters that bring a reader back to the same choice (/support takes them)."""
    query = {
        "interval": choice.interval,
        "currency": choice.currency,
        "amount": major(choice.amount, choice.currency),
    }
    if choice.cover_fee:
        query["cover_fee"] = "1"
    if choice.article:
        query["article"] = choice.article
    return query


def new_attempt() -> str:
    """A token for one rendering of the form: a double submit reuses it."""
    return secrets.token_urlsafe(16)


def to_amount(typed: str, code: str, settlement: str = "usd") -> int:
    """A typed major-unit amount ("7.50") in minor units of the currency, within its limits.

    The limits depend on the account's settlement currency (STRIPE_SETTLEMENT_CURRENCY).
    """
    return to_minor(typed, code, settlement)


def _customer_key(user: User) -> str:
    # The row's id restarts after a database reset; its creation time (to the microsecond)
    # does not repeat, so user 1 of a new database never meets the old user 1's key.
    return f"customer-{user.id}-{int(user.created_at.timestamp() * 1_000_000)}"


def _idempotency_key(choice: Choice, who: str) -> str:
    # Same form rendering + same choice = same key, so a double submit gets one session.
    # Without a form token, fall back to the minute: still absorbs a double click.
    nonce = choice.attempt or utcnow().strftime("%Y%m%d%H%M")
    parts = f"{nonce}|{who}|{choice.interval}|{choice.gross}|{choice.currency}|{choice.article}"
    return "checkout-" + hashlib.sha256(parts.encode()).hexdigest()[:40]


def _product_name(choice: Choice, site_name: str) -> str:
    if choice.interval == "once":
        return f"One-time gift to {site_name}"
    return f"{'Monthly' if choice.interval == 'month' else 'Yearly'} membership of {site_name}"


def start_checkout(
    choice: Choice, user: User | None, *, site_url: str, site_name: str, visitor: str
) -> CheckoutSession:
    """Create (once) the Checkout Session for a choice and record the attempt."""
    if choice.is_membership and user is not None and has_active_membership(user.id):
        raise AlreadyMember()
    if choice.article and published_view(choice.article) is None:
        # A draft's or a deleted story's slug would lead "back to the story" to a 404 and
        # credit the payment to a page nobody can read.
        choice = replace(choice, article=None)
    gateway = get_gateway()
    key = _idempotency_key(choice, _customer_key(user) if user else f"visitor-{visitor}")
    customer_id = None
    if user is not None:
        customer_id = gateway.ensure_customer(
            customer_id=user.stripe_customer_id,
            email=user.email,
            name=user.name,
            user_id=user.id,
            key=_customer_key(user),
        )
        user.stripe_customer_id = customer_id
    session = gateway.create_checkout(
        CheckoutRequest(
            interval=choice.interval,
            amount=choice.gross,
            fee_amount=choice.fee_amount,
            currency=choice.currency,
            product_name=_product_name(choice, site_name),
            success_url=f"{site_url}/support/thanks?session_id={{CHECKOUT_SESSION_ID}}",
            # The choice rides along, so the cancelled page can offer it again in one click.
            cancel_url=f"{site_url}/support/cancelled?{urlencode(choice_query(choice))}",
            idempotency_key=key,
            user_id=user.id if user else None,
            customer_id=customer_id,
            article=choice.article,
        )
    )
    _record_attempt(session, choice, user)
    db.session.flush()
    return session


def _record_attempt(session: CheckoutSession, choice: Choice, user: User | None) -> None:
    existing = db.session.scalar(
        select(CheckoutAttempt).where(CheckoutAttempt.stripe_session_id == session.id)
    )
    if existing is not None:  # a double submit got the same session back
        return
    db.session.add(
        CheckoutAttempt(
            stripe_session_id=session.id,
            user_id=user.id if user else None,
            interval=choice.interval,
            amount=choice.gross,
            fee_amount=choice.fee_amount,
            currency=choice.currency,
            source_article=choice.article,
        )
    )


@dataclass(frozen=True)
class ThanksStatus:
    """What the thanks page can say about a Checkout Session."""

    confirmed: bool
    known: bool
    interval: str | None = None
    amount_label: str | None = None
    article: str | None = None
    # Paid without an account: the address Checkout collected, where the claim link went.
    claim_email: str | None = None
    # The membership this session started has ended since: no confirmation will ever come.
    ended: bool = False


def thanks_status(session_id: str, *, started_here: bool = False) -> ThanksStatus:
    """Whether the webhook has recorded this session's payment yet; the payer's address only
    for the browser that started the session (`started_here`)."""
    attempt = db.session.scalar(
        select(CheckoutAttempt).where(CheckoutAttempt.stripe_session_id == session_id)
    )
    if attempt is None:
        return ThanksStatus(confirmed=False, known=False)
    payer = db.session.get(User, attempt.user_id) if attempt.user_id else None
    confirmed = attempt.status == "complete"
    if confirmed and attempt.interval != "once" and payer is not None:
        # The session completes before Stripe says the subscription is active: thank the
        # member once they are counted, so the tracker shows them.
        confirmed = has_active_membership(payer.id)
    ended = not confirmed and _session_membership_ended(session_id)
    return ThanksStatus(
        confirmed=confirmed,
        known=True,
        interval=attempt.interval,
        amount_label=format_money(attempt.amount, attempt.currency),
        article=attempt.source_article,
        claim_email=(
            payer.billing_email
            if started_here and payer is not None and not payer.has_login
            else None
        ),
        ended=ended,
    )


def _session_membership_ended(session_id: str) -> bool:
    # Only this session's own membership counts: an older, ended one says nothing about it.
    return bool(
        db.session.scalar(
            select(Membership.id)
            .where(
                Membership.stripe_checkout_session_id == session_id,
                Membership.status.in_(TERMINAL_STATUSES),
            )
            .limit(1)
        )
    )


def portal_url(user: User, *, return_url: str) -> str:
    """The Billing Portal URL where a member manages card and membership."""
    if not user.stripe_customer_id or not db.session.scalar(
        select(Membership.id).where(Membership.user_id == user.id).limit(1)
    ):
        raise PaymentError("You don't have a membership to manage yet.")
    return get_gateway().create_portal(user.stripe_customer_id, return_url)
