"""A Checkout that needs no payment now (a free trial, a 100 % coupon: Stripe's
`payment_status: no_payment_required`) is complete, as a paid one is."""

from __future__ import annotations

from sqlalchemy import select

from donations.models import CheckoutAttempt


def test_a_checkout_with_nothing_to_pay_is_complete(db, world, send):
    session = world.checkout(
        "cs_trial", mode="subscription", customer="cus_trial", subscription="sub_trial", amount=0
    )
    session["payment_status"] = "no_payment_required"
    send(world.event("checkout.session.completed", session))
    db.session.expire_all()
    attempt = db.session.scalar(select(CheckoutAttempt))
    assert (attempt.stripe_session_id, attempt.status) == ("cs_trial", "complete")
    assert attempt.completed_at is not None
