"""An endpoint created before 2025 keeps its API version: Stripe shapes every payload in it.

The same story through the emulator, once to an endpoint on the pinned version and once to
one on 2022-08-01 (invoices name subscription, payment intent and charge at the top,
subscriptions their period, charges list their refunds), ends in the same records.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from donations.membership.progress import get_progress, recount_members
from donations.models import Donation, Membership, StripeEvent
from donations.payments.account import WEBHOOK_EVENTS
from tests.factories import login, make_user, start_checkout

OLD = "2022-08-01"


def _pin_endpoint(app, version: str) -> None:
    """Replace the app's endpoint by one at the same URL on `version`."""
    client = app.extensions["payments_gateway"].client
    for endpoint in client.v1.webhook_endpoints.list().data:
        client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    client.v1.webhook_endpoints.create(
        params={
            "url": app.config["SITE_URL"] + "/stripe/webhook",
            "enabled_events": list(WEBHOOK_EVENTS),
            "api_version": version,
        }
    )


@pytest.mark.parametrize("version", ["pinned", OLD])
def test_an_old_endpoint_gives_the_same_records(app, client, db, emulator, version):
    pinned = app.config["STRIPE_API_VERSION"]
    if version != "pinned":
        _pin_endpoint(app, version)
    user = make_user(email="old.endpoint@example.org")
    login(client, user)
    emulator.pay_checkout(start_checkout(client, interval="month", amount="8"), "4242424242424242")
    client.post("/logout")
    emulator.pay_checkout(
        start_checkout(client, amount="25", attempt="attempt-token-for-the-gift"),
        "4242424242424242",
        email="giver@example.org",
    )
    charges = {
        ("gift" if c["metadata"].get("interval") == "once" else "membership"): c
        for c in emulator.list_objects("charge")
    }
    emulator.refund(charges["membership"]["id"], 300)
    failing = emulator.refund(charges["gift"]["id"], 1000)
    emulator.fail_refund(failing["id"])
    emulator.deliver_pending()

    membership = db.session.scalar(select(Membership))
    assert (membership.user_id, membership.status, membership.interval) == (
        user.id,
        "active",
        "month",
    )
    assert (membership.interval_count, membership.amount) == (1, 800)
    assert membership.current_period_end is not None
    donations = {d.kind: d for d in db.session.scalars(select(Donation).order_by(Donation.kind))}
    first = donations["membership_first"]
    assert first.stripe_payment_intent_id == charges["membership"]["payment_intent"]
    assert (first.user_id, first.amount_refunded, first.net_amount) == (user.id, 300, 500)
    gift = donations["gift"]
    assert (gift.amount, gift.amount_refunded, gift.net_amount) == (2500, 0, 2500)
    assert get_progress().members == 1 == recount_members()
    versions = set(db.session.scalars(select(StripeEvent.api_version)))
    assert versions == {pinned if version == "pinned" else OLD}
