"""/v1/webhook_endpoints through the real SDK: create, retrieve, list, update, delete."""

from __future__ import annotations

import typing
from collections.abc import Callable

import pytest
import stripe

from stripe_emulator import Emulator
from stripe_emulator.spec_enums import API_VERSIONS, WEBHOOK_EVENT_TYPES

from .conftest import SECRET, SITE

# The `webhook_endpoint` fixture of stripe/openapi (fixtures3.json), minus `secret`.
FIXTURE_KEYS = {
    "api_version",
    "application",
    "created",
    "description",
    "enabled_events",
    "id",
    "livemode",
    "metadata",
    "object",
    "status",
    "url",
}


def _client(emu: Emulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_emulator", http_client=emu.http_client)


@pytest.fixture
def bare(emu_factory: Callable[..., Emulator]) -> stripe.StripeClient:
    """A client on an emulator with no endpoint and no fixed secret (a fresh Stripe account)."""
    return _client(emu_factory(endpoint_url=None, signing_secret=None))


def test_secret_is_shown_only_in_the_create_response(bare: stripe.StripeClient) -> None:
    created = bare.v1.webhook_endpoints.create(
        params={
            "url": f"{SITE}/hook",
            "enabled_events": ["invoice.paid", "charge.refunded"],
            "description": "ours",
            "metadata": {"team": "membership"},
        }
    )
    assert isinstance(created, stripe.WebhookEndpoint)
    assert created.id.startswith("we_")
    assert created.secret is not None and created.secret.startswith("whsec_")
    assert set(created.to_dict()) == FIXTURE_KEYS | {"secret"}
    assert (created.status, created.livemode, created.api_version) == ("enabled", False, None)
    assert created.enabled_events == ["invoice.paid", "charge.refunded"]
    assert created.metadata.to_dict() == {"team": "membership"}
    fetched = bare.v1.webhook_endpoints.retrieve(created.id)
    assert set(fetched.to_dict()) == FIXTURE_KEYS
    listed = bare.v1.webhook_endpoints.list()
    assert [set(e.to_dict()) for e in listed.data] == [FIXTURE_KEYS]
    updated = bare.v1.webhook_endpoints.update(created.id, params={"description": "x"})
    assert "secret" not in updated


def test_each_endpoint_gets_its_own_secret_without_a_fixed_one(bare: stripe.StripeClient) -> None:
    params = {"url": f"{SITE}/hook", "enabled_events": ["*"]}
    first = bare.v1.webhook_endpoints.create(params=params)
    second = bare.v1.webhook_endpoints.create(params=params)
    assert first.secret != second.secret


def test_a_fixed_signing_secret_is_every_endpoints_secret(
    emu_factory: Callable[..., Emulator],
) -> None:
    # Like `stripe listen`, whose secret stays the same: the host's configured secret verifies.
    client = _client(emu_factory(endpoint_url=None))
    created = client.v1.webhook_endpoints.create(
        params={"url": f"{SITE}/hook", "enabled_events": ["*"]}
    )
    assert created.secret == SECRET


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"enabled_events": ["invoice.paid"]}, "url"),
        ({"url": f"{SITE}/hook"}, "enabled_events"),
        ({"url": "not a url", "enabled_events": ["*"]}, "url"),
        ({"url": f"{SITE}/hook", "enabled_events": ["invoice.paid", "invoice.paied"]}, None),
        ({"url": f"{SITE}/hook", "enabled_events": ["*"], "api_version": "2099-01-01"}, None),
        ({"url": f"{SITE}/hook", "enabled_events": ["*"], "colour": "blue"}, "colour"),
    ],
)
def test_create_refuses_what_stripe_refuses(
    bare: stripe.StripeClient, params: dict[str, typing.Any], param: str | None
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        bare.v1.webhook_endpoints.create(params=params)  # type: ignore[arg-type]
    assert caught.value.http_status == 400
    assert caught.value.error is not None
    assert caught.value.error.type == "invalid_request_error"
    if param is not None:
        assert caught.value.param == param


def test_unknown_event_type_is_named_by_its_index(bare: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        bare.v1.webhook_endpoints.create(
            params={"url": f"{SITE}/hook", "enabled_events": ["invoice.paid", "invoice.paied"]}
        )
    assert caught.value.param == "enabled_events[1]"
    assert "invoice.paied" not in str(caught.value.user_message).split("must be one of")[1]


def test_api_version_is_set_at_creation_and_never_changed(bare: stripe.StripeClient) -> None:
    created = bare.v1.webhook_endpoints.create(
        params={"url": f"{SITE}/hook", "enabled_events": ["*"], "api_version": "2024-06-20"}
    )
    assert created.api_version == "2024-06-20"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        bare.v1.webhook_endpoints.update(
            created.id,
            params={"api_version": "2026-10-28.endive"},  # type: ignore[typeddict-unknown-key]
        )
    assert caught.value.param == "api_version"
    assert bare.v1.webhook_endpoints.retrieve(created.id).api_version == "2024-06-20"


def test_update_events_description_metadata_url_and_disabled(bare: stripe.StripeClient) -> None:
    created = bare.v1.webhook_endpoints.create(
        params={"url": f"{SITE}/hook", "enabled_events": ["invoice.paid"], "metadata": {"a": "1"}}
    )
    updated = bare.v1.webhook_endpoints.update(
        created.id,
        params={
            "enabled_events": ["charge.refunded", "charge.succeeded"],
            "description": "refunds",
            "metadata": {"a": "", "b": "2"},
            "url": f"{SITE}/other",
            "disabled": True,
        },
    )
    assert updated.enabled_events == ["charge.refunded", "charge.succeeded"]
    assert (updated.description, updated.url, updated.status) == (
        "refunds",
        f"{SITE}/other",
        "disabled",
    )
    assert updated.metadata.to_dict() == {"b": "2"}
    enabled = bare.v1.webhook_endpoints.update(created.id, params={"disabled": False})
    assert enabled.status == "enabled"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        bare.v1.webhook_endpoints.update(created.id, params={"enabled_events": ["nope.never"]})
    assert caught.value.param == "enabled_events[0]"


def test_delete_then_it_is_gone(bare: stripe.StripeClient) -> None:
    created = bare.v1.webhook_endpoints.create(
        params={"url": f"{SITE}/hook", "enabled_events": ["*"]}
    )
    deleted = bare.v1.webhook_endpoints.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        bare.v1.webhook_endpoints.retrieve(created.id)
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert bare.v1.webhook_endpoints.list().data == []


def test_list_is_newest_first_and_paginates(bare: stripe.StripeClient) -> None:
    ids = [
        bare.v1.webhook_endpoints.create(
            params={"url": f"{SITE}/hook{i}", "enabled_events": ["*"]}
        ).id
        for i in range(3)
    ]
    first = bare.v1.webhook_endpoints.list(params={"limit": 2})
    assert [e.id for e in first.data] == ids[::-1][:2]
    assert first.has_more is True
    rest = bare.v1.webhook_endpoints.list(params={"starting_after": first.data[-1].id})
    assert [e.id for e in rest.data] == [ids[0]]


def _literal(annotation: typing.Any) -> set[str]:
    """The strings of a `List[Literal[...]]` or `Literal[...]` annotation."""
    while typing.get_origin(annotation) is not typing.Literal:
        annotation = typing.get_args(annotation)[0]
    return set(typing.get_args(annotation))


def test_the_enums_are_the_specs_as_the_pinned_sdk_has_them() -> None:
    # stripe-python is generated from the OpenAPI spec; an upgrade that changes it shows here.
    params = stripe.params.WebhookEndpointCreateParams.__annotations__
    assert _literal(params["enabled_events"]) == WEBHOOK_EVENT_TYPES
    assert _literal(params["api_version"]) == set(API_VERSIONS)
    assert {"*", "invoice_payment.paid", "customer.subscription.updated"} <= WEBHOOK_EVENT_TYPES
