"""Billing Portal configurations and sessions, and the balance, through the real SDK."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import Emulator

from .conftest import SITE

# Keys of the `billing_portal.configuration` and `balance` fixtures (stripe/openapi).
CONFIG_KEYS = {
    "active",
    "application",
    "business_profile",
    "created",
    "default_return_url",
    "features",
    "id",
    "is_default",
    "livemode",
    "login_page",
    "metadata",
    "name",
    "object",
    "updated",
}
FEATURE_KEYS = {
    "customer_update",
    "invoice_history",
    "payment_method_update",
    "subscription_cancel",
    "subscription_update",
}
NO_DEFAULT = (
    "No configuration provided and your test mode default configuration has not been created. "
    "Provide a configuration or create your default by saving your customer portal settings in "
    "test mode at https://dashboard.stripe.com/test/settings/billing/portal."
)
CANCEL_AT_PERIOD_END: dict[str, Any] = {
    "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
    "invoice_history": {"enabled": True},
}


def _config(client: stripe.StripeClient, **params: Any) -> stripe.billing_portal.Configuration:
    return client.v1.billing_portal.configurations.create(
        params={"features": CANCEL_AT_PERIOD_END, **params}
    )


@pytest.fixture
def customer(emu_client: stripe.StripeClient) -> str:
    return emu_client.v1.customers.create(params={"email": "p@example.com"}).id


def test_api_created_configuration_is_never_the_default(emu_client: stripe.StripeClient) -> None:
    config = _config(
        emu_client, default_return_url=f"{SITE}/account", metadata={"created_by": "donations"}
    )
    assert isinstance(config, stripe.billing_portal.Configuration)
    assert config.id.startswith("bpc_")
    assert set(config.to_dict()) == CONFIG_KEYS
    assert (config.is_default, config.active, config.livemode) == (False, True, False)
    assert set(config.features.to_dict()) == FEATURE_KEYS
    cancel = config.features.subscription_cancel
    assert (cancel.enabled, cancel.mode, cancel.proration_behavior) == (
        True,
        "at_period_end",
        "none",
    )
    assert config.features.invoice_history.enabled is True
    assert config.features.payment_method_update.enabled is False
    assert config.default_return_url == f"{SITE}/account"
    assert config.metadata.to_dict() == {"created_by": "donations"}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "features"),
        ({"features": {"teleport": {"enabled": True}}}, "features"),
        ({"features": {"subscription_cancel": {"enabled": True, "mode": "later"}}}, None),
        ({"features": CANCEL_AT_PERIOD_END, "colour": "blue"}, "colour"),
    ],
)
def test_configuration_create_refuses_what_stripe_refuses(
    emu_client: stripe.StripeClient, params: dict[str, Any], param: str | None
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_client.v1.billing_portal.configurations.create(params=params)  # type: ignore[arg-type]
    assert caught.value.http_status == 400
    if param is not None:
        assert caught.value.param == param


def test_list_filters_by_active_and_is_default(
    emu: Emulator, emu_client: stripe.StripeClient
) -> None:
    ours = _config(emu_client)
    retired = _config(emu_client)
    emu_client.v1.billing_portal.configurations.update(retired.id, params={"active": False})
    default = emu.create_default_portal_configuration()
    configs = emu_client.v1.billing_portal.configurations
    assert [c.id for c in configs.list().data] == [default["id"], retired.id, ours.id]
    assert [c.id for c in configs.list(params={"active": True}).data] == [default["id"], ours.id]
    assert [c.id for c in configs.list(params={"active": False}).data] == [retired.id]
    assert [c.id for c in configs.list(params={"is_default": True}).data] == [default["id"]]
    assert configs.retrieve(ours.id).features.subscription_cancel.enabled is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        configs.retrieve("bpc_missing")
    assert caught.value.http_status == 404


def test_the_dashboard_default_is_created_once(emu: Emulator) -> None:
    first = emu.create_default_portal_configuration()
    again = emu.create_default_portal_configuration()
    assert first["id"] == again["id"]
    assert first["is_default"] is True and first["active"] is True


def test_portal_session_without_configuration_or_default_is_refused(
    emu_client: stripe.StripeClient, customer: str
) -> None:
    _config(emu_client)  # an API-made configuration is not the default
    with pytest.raises(stripe.InvalidRequestError) as caught:
        emu_client.v1.billing_portal.sessions.create(params={"customer": customer})
    assert caught.value.http_status == 400
    assert caught.value.user_message == NO_DEFAULT


def test_portal_session_uses_the_default_when_none_is_named(
    emu: Emulator, emu_client: stripe.StripeClient, customer: str
) -> None:
    default = emu.create_default_portal_configuration()
    portal = emu_client.v1.billing_portal.sessions.create(
        params={"customer": customer, "return_url": f"{SITE}/account"}
    )
    assert isinstance(portal, stripe.billing_portal.Session)
    assert portal.configuration == default["id"]
    assert portal.url == f"{SITE}/_emulator/portal/{portal.id}"
    assert portal.return_url == f"{SITE}/account"


def test_portal_session_with_a_configuration_must_name_an_active_one(
    emu_client: stripe.StripeClient, customer: str
) -> None:
    config = _config(emu_client, default_return_url=f"{SITE}/account")
    portal = emu_client.v1.billing_portal.sessions.create(
        params={"customer": customer, "configuration": config.id}
    )
    assert portal.configuration == config.id
    assert portal.return_url == f"{SITE}/account"  # the configuration's default
    with pytest.raises(stripe.InvalidRequestError) as missing:
        emu_client.v1.billing_portal.sessions.create(
            params={"customer": customer, "configuration": "bpc_missing"}
        )
    assert missing.value.param == "configuration"
    emu_client.v1.billing_portal.configurations.update(config.id, params={"active": False})
    with pytest.raises(stripe.InvalidRequestError) as inactive:
        emu_client.v1.billing_portal.sessions.create(
            params={"customer": customer, "configuration": config.id}
        )
    assert inactive.value.param == "configuration"
    with pytest.raises(stripe.InvalidRequestError) as nobody:
        emu_client.v1.billing_portal.sessions.create(
            params={"customer": "cus_nope", "configuration": config.id}
        )
    assert nobody.value.param == "customer"


def test_balance_is_test_mode(emu_client: stripe.StripeClient) -> None:
    balance = emu_client.v1.balance.retrieve()
    assert isinstance(balance, stripe.Balance)
    assert balance.livemode is False
    assert set(balance.to_dict()) == {
        "object",
        "available",
        "connect_reserved",
        "livemode",
        "pending",
    }
    assert balance.available[0].currency == "usd"
