"""Finding the supporter behind a Stripe fact: by our user id first, then by customer id.

Never by email alone: an email typed into Checkout proves nothing about who owns an account.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from donations.extensions import db
from donations.membership.locking import get_or_create_locked
from donations.models import User

log = logging.getLogger(__name__)


def _user_by_id(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None


def agrees(user: User, customer_id: str | None) -> bool:
    """False when the user has a Stripe customer and the fact names another one."""
    return not (user.stripe_customer_id and customer_id and user.stripe_customer_id != customer_id)


def link_customer(user: User, customer_id: str | None) -> None:
    """Remember the user's Stripe customer, unless they already have another one."""
    if not customer_id or user.stripe_customer_id == customer_id:
        return
    if user.stripe_customer_id:
        log.warning(
            "user %s has customer %s; not relinking to %s",
            user.id,
            user.stripe_customer_id,
            customer_id,
        )
        return
    owner = db.session.scalar(select(User).where(User.stripe_customer_id == customer_id))
    if owner is not None and owner.id != user.id:
        log.warning("customer %s belongs to user %s, not %s", customer_id, owner.id, user.id)
        return
    user.stripe_customer_id = customer_id
    db.session.flush()


def supporter_for(
    *, user_id: int | None, customer_id: str | None, email: str | None = None
) -> User | None:
    """The person a fact is about; a Stripe-only supporter is created for an unknown customer.

    A user id (metadata, client_reference_id) counts only when it agrees with the customer:
    a user whose stored customer is another one is not this fact's person (a reset database,
    or an environment sharing the Stripe account, reuses ids), and the fact goes by its
    customer instead. Facts another installation tagged never reach here (payments.ledger).
    """
    user = _user_by_id(user_id)
    if user is not None and agrees(user, customer_id):
        link_customer(user, customer_id)
        return user
    if user is not None:
        log.warning(
            "user %s has customer %s, not %s; the fact goes by its customer",
            user.id,
            user.stripe_customer_id,
            customer_id,
        )
    if not customer_id:
        return None
    supporter = get_or_create_locked(
        User, User.stripe_customer_id, customer_id, {"billing_email": email}
    )
    if email and not supporter.billing_email:
        supporter.billing_email = email
    return supporter
