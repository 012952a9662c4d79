"""The emulated REST API through the real SDK: objects, lists, validation, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import stripe

from stripe_emulator import Emulator, EmulatorHTTPClient
from stripe_emulator.forms import parse_form
from stripe_emulator.routes import ROUTES

from .conftest import SITE


def test_parse_form_nests_hashes_and_arrays() -> None:
    body = (
        "line_items[0][price_data][currency]=usd&line_items[0][quantity]=1"
        "&line_items[1][price_data][recurring][interval]=month&metadata[article]=x%20y"
        "&expand[0]=customer&expand[1]=subscription&subscription_data[metadata][k]=v&empty="
    )
    assert parse_form(body) == {
        "line_items": [
            {"price_data": {"currency": "usd"}, "quantity": "1"},
            {"price_data": {"recurring": {"interval": "month"}}},
        ],
        "metadata": {"article": "x y"},
        "expand": ["customer", "subscription"],
        "subscription_data": {"metadata": {"k": "v"}},
        "empty": "",
    }


def test_customer_create_retrieve_update(emu_client: stripe.StripeClient, emu: Emulator) -> None:
    created = emu_client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"user_id": "7"}}
    )
    assert isinstance(created, stripe.Customer)
    assert created.id.startswith("cus_")
    assert created.email == "ada@example.com"
    updated = emu_client.v1.customers.update(
        created.id, params={"name": "Ada L.", "metadata": {"user_id": "", "plan": "gold"}}
    )
    assert updated.name == "Ada L."
    assert updated.metadata.to_dict() == {"plan": "gold"}
    fetched = emu_client.v1.customers.retrieve(created.id)
    assert (fetched.email, fetched.name) == ("ada@example.com", "Ada L.")
    assert [e["type"] for e in emu.events()] == ["customer.created", "customer.updated"]
    assert emu.events()[1]["data"]["previous_attributes"]["name"] == "Ada"


def test_customer_list_paginates(emu_client: stripe.StripeClient) -> None:
    ids = [
        emu_client.v1.customers.create(params={"email": f"c{i}@example.com"}).id for i in range(5)
    ]
    first = emu_client.v1.customers.list(params={"limit": 2})
    assert first.object == "list"
    assert first.url == "/v1/customers"
    assert [c.id for c in first.data] == ids[::-1][:2]  # newest first
    assert first.has_more is True
    second = emu_client.v1.customers.list(params={"limit": 2, "starting_after": first.data[-1].id})
    assert [c.id for c in second.data] == ids[::-1][2:4]
    last = emu_client.v1.customers.list(params={"limit": 2, "starting_after": second.data[-1].id})
    assert [c.id for c in last.data] == [ids[0]]
    assert last.has_more is False
    everything = list(emu_client.v1.customers.list(params={"limit": 2}).auto_paging_iter())
    assert sorted(c.id for c in everything) == sorted(ids)
    by_email = emu_client.v1.customers.list(params={"email": "c3@example.com"})
    assert [c.id for c in by_email.data] == [ids[3]]


def test_subscription_session_fields(emu_session: Callable[..., Any]) -> None:
    session = emu_session(customer_email="reader@example.com")
    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.url == f"{SITE}/_emulator/checkout/{session.id}"
    assert session.success_url == f"{SITE}/support/thanks?session_id={{CHECKOUT_SESSION_ID}}"
    assert (session.mode, session.status, session.payment_status) == (
        "subscription",
        "open",
        "unpaid",
    )
    assert (session.amount_total, session.currency) == (800, "usd")
    assert session.client_reference_id == "42"
    assert session.metadata.to_dict() == {"user_id": "42"}
    assert session.customer_email == "reader@example.com"
    assert session.subscription is None
    assert session.expires_at - session.created == 24 * 3600


def test_payment_session_and_line_items(
    emu_session: Callable[..., Any], emu_client: stripe.StripeClient
) -> None:
    session = emu_session(
        "payment",
        line_items=[
            {
                "price_data": {
                    "currency": "jpy",
                    "unit_amount": 500,
                    "product_data": {"name": "One-time gift"},
                },
                "quantity": 2,
            }
        ],
        submit_type="donate",
        customer_creation="always",
    )
    assert (session.mode, session.amount_total, session.currency) == ("payment", 1000, "jpy")
    assert session.customer_creation == "always"
    expanded = emu_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["line_items"]}
    )
    item = expanded.line_items.data[0]
    assert (item.description, item.quantity, item.price.unit_amount) == ("One-time gift", 2, 500)
    assert item.price.type == "one_time"
    plain = emu_client.v1.checkout.sessions.retrieve(session.id)
    assert "line_items" not in plain


def _price(**changes: Any) -> list[dict[str, Any]]:
    price: dict[str, Any] = {
        "currency": "usd",
        "unit_amount": 800,
        "product_data": {"name": "Membership"},
        "recurring": {"interval": "month"},
    }
    price.update(changes)
    return [{"price_data": {k: v for k, v in price.items() if v is not None}, "quantity": 1}]


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"line_items": None}, "line_items"),
        ({"line_items": _price(unit_amount=-1)}, "line_items[0][price_data][unit_amount]"),
        ({"line_items": _price(unit_amount="8.5")}, "line_items[0][price_data][unit_amount]"),
        ({"line_items": _price(currency="xyz")}, "line_items[0][price_data][currency]"),
        ({"line_items": _price(recurring=None)}, "line_items"),
        ({"line_items": _price(unit_amount=49)}, "line_items[0][price_data][unit_amount]"),
        ({"success_url": None}, "success_url"),
        ({"success_url": "not a url"}, "success_url"),
        ({"customer": "cus_missing"}, "customer"),
        ({"mode": "bogus"}, "mode"),
        ({"payment_intent_data": {"metadata": {"a": "b"}}}, "payment_intent_data"),
    ],
)
def test_session_validation(
    emu_session: Callable[..., Any], overrides: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_session(**overrides)
    assert caught.value.http_status in (400, 404)
    assert caught.value.param == param


def test_both_customer_and_email_rejected(
    emu_session: Callable[..., Any], emu_client: stripe.StripeClient
) -> None:
    customer = emu_client.v1.customers.create(params={"email": "a@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_session(customer=customer.id, customer_email="a@example.com")
    assert caught.value.param == "customer_email"
    assert caught.value.http_status == 400


def test_minimum_amount_is_per_currency_and_settlement_currency(
    emu: Emulator, emu_session: Callable[..., Any]
) -> None:
    # 30 pence is Stripe's GBP minimum: enough on an account that settles in GBP …
    emu.settlement_currency = "gbp"
    ok = emu_session("payment", line_items=_gift("gbp", 30))
    assert ok.amount_total == 30
    # … while 30 cents is below the USD one, whatever the account settles in.
    with pytest.raises(stripe.InvalidRequestError, match=r"at least \$0\.50 usd"):
        emu_session("payment", line_items=_gift("usd", 30))
    # Settling in USD, a charge must convert to at least $0.50: 30 pence does not.
    emu.settlement_currency = "usd"
    with pytest.raises(stripe.InvalidRequestError, match=r"at least £0\.37 gbp") as caught:
        emu_session("payment", line_items=_gift("gbp", 30))
    assert caught.value.code == "amount_too_small"


def _gift(currency: str, amount: int) -> list[dict[str, Any]]:
    data = {"currency": currency, "unit_amount": amount, "product_data": {"name": "Gift"}}
    return [{"price_data": data, "quantity": 1}]


def test_recurring_price_rejected_in_payment_mode(emu_session: Callable[..., Any]) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_session("payment", line_items=_price(), payment_intent_data=None)
    assert caught.value.param == "line_items[0][price_data][recurring]"


def test_idempotency_replays_and_rejects_changed_params(emu_client: stripe.StripeClient) -> None:
    options: Any = {"idempotency_key": "customer-7-abc"}
    first = emu_client.v1.customers.create(params={"email": "x@example.com"}, options=options)
    again = emu_client.v1.customers.create(params={"email": "x@example.com"}, options=options)
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(emu_client.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        emu_client.v1.customers.create(params={"email": "y@example.com"}, options=options)
    other = emu_client.v1.customers.create(
        params={"email": "x@example.com"}, options={"idempotency_key": "another"}
    )
    assert other.id != first.id


def test_unknown_path_and_object_are_404(emu_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_client.raw_request("get", "/v1/nothing_here")
    assert caught.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as missing:
        emu_client.v1.subscriptions.retrieve("sub_nope")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_route_table_is_explicit_and_unambiguous(emu_client: stripe.StripeClient) -> None:
    rows = [(method, pattern) for method, pattern, _ in ROUTES]
    assert len(rows) == len(set(rows))
    assert all(callable(handler) for _, _, handler in ROUTES)
    # A known path with a method the table does not list is Stripe's "not allowed" 404.
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_client.raw_request("delete", "/v1/customers")
    assert caught.value.http_status == 404
    assert "not allowed" in str(caught.value.user_message)


def test_without_a_configured_version_the_sdk_pin_is_used(
    emu_factory: Callable[..., Emulator],
) -> None:
    assert emu_factory(api_version=None).api_version == stripe.api_version


def test_live_key_is_refused(emu: Emulator) -> None:
    client = stripe.StripeClient("sk_live_nope", http_client=EmulatorHTTPClient(emu))
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.list()


def test_events_list_filters(emu_client: stripe.StripeClient, emu: Emulator) -> None:
    customer = emu_client.v1.customers.create(params={"email": "e@example.com"})
    emu_client.v1.customers.update(customer.id, params={"name": "E"})
    created = emu_client.v1.events.list(params={"type": "customer.created"})
    assert [e.type for e in created.data] == ["customer.created"]
    assert isinstance(created.data[0].data.object, stripe.Customer)
    wildcard = emu_client.v1.events.list(params={"type": "customer.*"})
    assert [e.type for e in wildcard.data] == ["customer.updated", "customer.created"]
    first = emu.events()[0]
    later = emu_client.v1.events.list(params={"created": {"gte": first["created"] + 3600}})
    assert later.data == []
    fetched = emu_client.v1.events.retrieve(first["id"])
    assert fetched.request.idempotency_key  # the SDK sent one; the event names it


def test_answers_carry_the_emulators_clock_in_their_date(
    emu: Emulator, emu_client: stripe.StripeClient
) -> None:
    emu.advance_clock(3 * 86400)
    answer = emu_client.v1.balance.retrieve().last_response
    assert answer is not None
    date = parsedate_to_datetime(answer.headers["Date"]).timestamp()
    assert abs(date - emu.now()) <= 1
