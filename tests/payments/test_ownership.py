"""The ownership rule (payments.ownership): by our tag, else by what an object is linked to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from donations import create_app
from donations.facts.facts import (
    ChargeFact,
    CheckoutFact,
    DisputeFact,
    InvoiceFact,
    InvoicePaymentFact,
    RefundFact,
    SubscriptionFact,
)
from donations.facts.metadata import CheckoutMetadata
from donations.membership.donations import record_gift
from donations.models import Adoption
from donations.payments.ownership import Owner, decide, keys_of
from donations.payments.ownership_check import check_warnings
from tests.conftest import base_config
from tests.factories import make_user

OURS = "dours"
AT = datetime(2026, 12, 1, tzinfo=UTC)


def _charge(intent: str = "pi_shop", site: str | None = None) -> ChargeFact:
    return ChargeFact(
        id="ch_1",
        payment_intent_id=intent,
        customer_id=None,
        amount=4500,
        amount_refunded=0,
        currency="usd",
        status="succeeded",
        disputed=False,
        email=None,
        created=AT,
        metadata=CheckoutMetadata(interval="once" if site else None, site=site),
    )


def _refund(intent: str | None = "pi_shop", charge: str = "ch_1") -> RefundFact:
    return RefundFact("re_1", charge, intent, 500, "usd", "succeeded", AT)


def _dispute(intent: str | None = "pi_shop", charge: str = "ch_1") -> DisputeFact:
    return DisputeFact("dp_1", charge, intent, "needs_response", 4500, "usd")


@pytest.mark.parametrize(
    ("value", "shared"), [("0", False), ("1", True), ("", False), ("true", True)]
)
def test_the_setting_reads_0_and_1(tmp_path, value, shared):
    app = create_app({**base_config(tmp_path), "STRIPE_ACCOUNT_SHARED": value})
    assert app.config["STRIPE_ACCOUNT_SHARED"] is shared


def test_the_setting_is_0_by_default(tmp_path):
    assert create_app(base_config(tmp_path)).config["STRIPE_ACCOUNT_SHARED"] is False


def test_each_object_is_held_under_the_subscription_or_payment_it_belongs_to():
    invoice = InvoiceFact.from_dict(
        {"id": "in_1", "object": "invoice", "customer": "cus_1", "subscription": "sub_1"}
    )
    assert keys_of(invoice).root == "sub_1"
    assert keys_of(invoice).all() == {"in_1", "sub_1"}
    paid = InvoicePaymentFact("inpay_1", "in_1", "pi_1", 800, "usd", "paid", AT)
    assert (keys_of(paid).root, keys_of(paid).all()) == ("in_1", {"inpay_1", "in_1", "pi_1"})
    assert keys_of(_charge()).root == "pi_shop"
    assert keys_of(_refund(intent=None)).root == "ch_1"  # an older refund names the charge only
    assert keys_of(_dispute()).all() == {"dp_1", "ch_1", "pi_shop"}
    session = CheckoutFact.from_dict(
        {"id": "cs_1", "object": "checkout.session", "mode": "payment", "payment_intent": "pi_9"}
    )
    assert keys_of(session).root == "pi_9"
    customer = keys_of({"id": "cus_1", "object": "customer"})
    assert (customer.root, customer.customer) == ("cus_1", "cus_1")


def test_a_tag_decides_whatever_the_setting(app, db):
    ours, other = _charge(site=OURS), _charge(site="dother")
    for shared in (False, True):
        assert decide(ours, OURS, shared=shared) is Owner.OURS
        assert decide(other, OURS, shared=shared) is Owner.OTHER_INSTALLATION


def test_untagged_objects_are_ours_on_a_dedicated_account_only(app, db):
    assert decide(_charge(), OURS, shared=False) is Owner.OURS
    assert decide(_charge(), OURS, shared=True) is Owner.FOREIGN


def test_refunds_and_disputes_of_a_foreign_charge_are_foreign_and_of_ours_are_ours(app, db):
    for fact in (_refund(), _dispute(), _refund(intent=None), _dispute(intent=None)):
        assert decide(fact, OURS, shared=True) is Owner.FOREIGN
    record_gift(
        "pi_ours",
        amount=1000,
        currency="usd",
        paid_at=AT,
        metadata=CheckoutMetadata(interval="once"),
        email=None,
        customer_id=None,
        user_id=None,
    )
    assert decide(_refund(intent="pi_ours"), OURS, shared=True) is Owner.OURS
    assert decide(_dispute(intent="pi_ours"), OURS, shared=True) is Owner.OURS


def test_the_customer_is_no_link(app, db):
    make_user(email="member@example.org", stripe_customer_id="cus_member")
    subscription = SubscriptionFact.from_dict(
        {
            "id": "sub_shop",
            "object": "subscription",
            "customer": "cus_member",
            "status": "active",
            "items": {"data": []},
        }
    )
    assert decide(subscription, OURS, shared=True) is Owner.FOREIGN
    assert decide({"id": "cus_member", "object": "customer"}, OURS, shared=True) is Owner.OURS


class _Listing:
    def __init__(self, objects):
        self.objects = objects
        self.asked = []

    def iter_objects(self, kind, **params):
        self.asked.append((kind, params))
        return iter(self.objects.get(kind, []))


def test_check_warnings_name_untagged_objects_on_a_dedicated_account_only(app, db):
    session = CheckoutFact.from_dict({"id": "cs_link", "object": "checkout.session"})
    tagged = CheckoutFact.from_dict(
        {"id": "cs_ours", "object": "checkout.session", "metadata": {"site": OURS}}
    )
    gateway = _Listing({"checkout_sessions": [tagged, session]})
    (warning,) = check_warnings(gateway, installation=OURS, shared=False, now=AT)
    assert "1 Checkout session (e.g. cs_link)" in warning and "STRIPE_ACCOUNT_SHARED=1" in warning
    assert gateway.asked[0][1]["created"]["gte"] == int(AT.timestamp()) - 30 * 86400
    assert check_warnings(gateway, installation=OURS, shared=True, now=AT) == []
    assert (
        check_warnings(_Listing({"checkout_sessions": [tagged]}), installation=OURS, shared=False)
        == []
    )


def test_check_warnings_leave_out_what_staff_adopted_and_count_in_good_english(app, db):
    def session(i, intent):
        return CheckoutFact.from_dict(
            {"id": f"cs_{i}", "object": "checkout.session", "payment_intent": intent}
        )

    def subscription(i):
        return SubscriptionFact.from_dict(
            {"id": f"sub_{i}", "object": "subscription", "status": "active", "items": {"data": []}}
        )

    gateway = _Listing(
        {
            "checkout_sessions": [session(1, "pi_adopted"), session(2, "pi_2"), session(3, "pi_3")],
            "subscriptions": [subscription("adopted"), subscription("shop")],
        }
    )
    db.session.add_all(
        [
            Adoption(stripe_object_id="pi_adopted", kind="payment"),
            Adoption(stripe_object_id="sub_adopted", kind="subscription"),
        ]
    )
    db.session.flush()
    (warning,) = check_warnings(gateway, installation=OURS, shared=False, now=AT)
    assert "the account has 2 Checkout sessions (e.g. cs_2), 1 subscription (e.g. sub_shop)" in (
        warning
    )
    db.session.add(Adoption(stripe_object_id="sub_shop", kind="subscription"))
    db.session.flush()
    (warning,) = check_warnings(gateway, installation=OURS, shared=False, now=AT)
    assert "subscription" not in warning.split(" of the last")[0]
