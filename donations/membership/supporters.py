"""Finding the supporter behind a Stripe fact: by our user id first, then by customer id.

Never by email alone: an email typed into Checkout proves nothing about who owns an account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

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


def owner_in_db(customer_id: str) -> User | None:
    """The user who holds this Stripe customer, read from the database."""
    return db.session.scalar(select(User).where(User.stripe_customer_id == customer_id))


def link_customer(
    user: User, customer_id: str | None, owner_of: Callable[[str], User | None] = owner_in_db
) -> None:
    """Remember the user's Stripe customer, unless they or someone else already have it.

    `owner_of` finds who holds a customer now: the database by default; the batch path
    passes the users it has already read and locked.
    """
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
    owner = owner_of(customer_id)
    if owner is not None and owner.id != user.id:
        log.warning("customer %s belongs to user %s, not %s", customer_id, owner.id, user.id)
        return
    user.stripe_customer_id = customer_id


def claimed_by(
    user: User | None,
    customer_id: str | None,
    owner_of: Callable[[str], User | None] = owner_in_db,
) -> User | None:
    """The fact's user by its user id, linked to its customer; None when it names no one.

    A user id (metadata, client_reference_id) counts only when it agrees with the customer:
    a user whose stored customer is another one is not this fact's person (a reset database,
    or an environment sharing the Stripe account, reuses ids), and the fact goes by its
    customer instead. Both the one-by-one path (supporter_for) and the batch path use it.
    """
    if user is None:
        return None
    if agrees(user, customer_id):
        link_customer(user, customer_id, owner_of)
        return user
    log.warning(
        "user %s has customer %s, not %s; the fact goes by its customer",
        user.id,
        user.stripe_customer_id,
        customer_id,
    )
    return None


def supporter_for(
    *, user_id: int | None, customer_id: str | None, email: str | None = None
) -> User | None:
    """The person a fact is about; a Stripe-only supporter is created for an unknown customer.

    By the fact's user id when it agrees with the customer (claimed_by), else by the customer.
    Facts another installation tagged never reach here (payments.ledger).
    """
    user = claimed_by(_user_by_id(user_id), customer_id)
    if user is not None:
        db.session.flush()  # the link, if one was made
        return user
    if not customer_id:
        return None
    supporter = get_or_create_locked(
        User, User.stripe_customer_id, customer_id, {"billing_email": email}
    )
    if email and not supporter.billing_email:
        supporter.billing_email = email
    return supporter
