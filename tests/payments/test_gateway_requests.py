"""The exact requests the real Stripe would receive: recorded at the SDK's HTTP-client seam."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
import stripe

from donations.payments.gateway import Gateway, build_client
from tests.factories import login, make_article, make_membership, make_user


class Recorder(stripe.HTTPClient):
    """Records every request the SDK sends, then lets the emulator answer it."""

    name = "recorder"

    def __init__(self, inner: stripe.HTTPClient) -> None:
        super().__init__()
        self.inner = inner
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        self.requests.append((method, url, dict(headers or {}), dict(parse_qsl(body))))
        return self.inner.request(method, url, headers, post_data)

    def close(self):
        return None

    def last(self, path: str) -> tuple[str, dict[str, str], dict[str, str]]:
        """The last request to a path: method, headers and decoded form parameters."""
        for method, url, headers, params in reversed(self.requests):
            if url.endswith(path):
                return method, headers, params
        raise AssertionError(f"no request to {path}: {[r[1] for r in self.requests]}")


@pytest.fixture
def recorder(app, emulator):
    rec = Recorder(emulator.http_client)
    app.extensions["payments_gateway"] = Gateway(
        build_client(app, http_client=rec), app.config["STRIPE_WEBHOOK_SECRET"]
    )
    return rec


def test_gift_request_has_the_exact_parameters(client, db, recorder):
    make_article(slug="flood-walls")
    client.post(
        "/support/checkout",
        data={
            "interval": "once",
            "amount": "12.50",
            "currency": "gbp",
            "cover_fee": "1",
            "article": "flood-walls",
            "attempt": "attempt-token-0123456789",
        },
    )
    method, headers, params = recorder.last("/v1/checkout/sessions")
    assert method == "post"
    assert headers["Stripe-Version"] == "2026-10-28.endive"
    assert headers["Idempotency-Key"].startswith("checkout-")
    assert params == {
        "mode": "payment",
        "ui_mode": "hosted_page",
        "submit_type": "donate",
        "customer_creation": "if_required",
        "line_items[0][price_data][currency]": "gbp",
        # £12.50 + a UK card's fee: (1250 + 20) / 0.985 = 1289.3 → 1290 pence, 40 of them fee.
        "line_items[0][price_data][unit_amount]": "1290",
        "line_items[0][price_data][product_data][name]": "One-time gift to The Meridian Ledger",
        "line_items[0][quantity]": "1",
        "success_url": "http://localhost/support/thanks?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://localhost/support/cancelled?interval=once&currency=gbp&amount=12.50"
        "&cover_fee=1&article=flood-walls",
        "metadata[interval]": "once",
        "metadata[fee_amount]": "40",
        "metadata[article]": "flood-walls",
        "payment_intent_data[metadata][interval]": "once",
        "payment_intent_data[metadata][fee_amount]": "40",
        "payment_intent_data[metadata][article]": "flood-walls",
    }


@pytest.mark.parametrize(
    ("interval", "amount", "minor"), [("month", "8", "800"), ("year", "80", "8000")]
)
def test_membership_request_has_the_exact_parameters(client, db, recorder, interval, amount, minor):
    user = make_user(email="reader@example.org")
    login(client, user)
    client.post(
        "/support/checkout",
        data={
            "interval": interval,
            "amount": amount,
            "currency": "usd",
            "attempt": "attempt-token-0123456789",
        },
    )
    _, _, customer = recorder.last("/v1/customers")
    assert customer == {"email": "reader@example.org", "metadata[user_id]": str(user.id)}
    _, headers, params = recorder.last("/v1/checkout/sessions")
    db.session.refresh(user)
    uid = str(user.id)
    plan = f"{'Monthly' if interval == 'month' else 'Yearly'} membership of The Meridian Ledger"
    assert params == {
        "mode": "subscription",
        "ui_mode": "hosted_page",
        "customer": user.stripe_customer_id,
        "client_reference_id": uid,
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": minor,
        "line_items[0][price_data][recurring][interval]": interval,
        "line_items[0][price_data][product_data][name]": plan,
        "line_items[0][quantity]": "1",
        "success_url": "http://localhost/support/thanks?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://localhost/support/cancelled?interval="
        f"{interval}&currency=usd&amount={amount}",
        "metadata[interval]": interval,
        "metadata[fee_amount]": "0",
        "metadata[user_id]": uid,
        "subscription_data[metadata][interval]": interval,
        "subscription_data[metadata][fee_amount]": "0",
        "subscription_data[metadata][user_id]": uid,
    }
    assert headers["Idempotency-Key"].startswith("checkout-")


def test_portal_request_names_the_customer_return_url_and_configuration(
    client, db, recorder, emulator
):

    user = make_user(stripe_customer_id=None)
    login(client, user)
    client.post(
        "/support/checkout",
        data={
            "interval": "month",
            "amount": "8",
            "currency": "usd",
            "attempt": "attempt-token-0123456789",
        },
    )
    db.session.refresh(user)
    make_membership(user)
    response = client.post("/account/billing")
    assert response.status_code == 303
    assert "/_emulator/portal/" in response.headers["Location"]
    _, _, params = recorder.last("/v1/billing_portal/sessions")
    (ours,) = [
        c["id"]
        for c in emulator.list_objects("billing_portal.configuration")
        if c["metadata"] == {"created_by": "donations"}
    ]
    assert params == {
        "customer": user.stripe_customer_id,
        "return_url": "http://localhost/account",
        "configuration": ours,  # the one `stripe setup` made; Stripe refuses sessions without
    }
