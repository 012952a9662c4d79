"""The Billing Portal: configurations (`/v1/billing_portal/configurations`) and sessions.

Stripe refuses a portal session until a configuration exists: one passed as `configuration`,
or the account's default, which is the one saved in the Dashboard's portal settings (API
reference, "Create a portal session"; stripe-behaviour.md). Configurations made through the
API are never the default (`is_default: false`). The emulator has no Dashboard, so tests and
demos save a default with `Emulator.create_default_portal_configuration()`.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import objects as o
from .errors import StripeError, invalid, missing, no_such
from .forms import as_bool, as_dict, as_list, merge_metadata, reject_unknown
from .listing import paginate
from .routing import fetch
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

# Stripe's wording when neither a configuration nor a saved default exists.
NO_CONFIGURATION = (
    "No configuration provided and your test mode default configuration has not been created. "
    "Provide a configuration or create your default by saving your customer portal settings in "
    "test mode at https://dashboard.stripe.com/test/settings/billing/portal."
)
# Every feature, switched off: the shape of `features` in the billing_portal.configuration
# fixture (OpenAPI fixtures3.json). Parameters are merged onto it, and only these keys exist.
FEATURES: dict[str, Any] = {
    "customer_update": {"allowed_updates": [], "enabled": False},
    "invoice_history": {"enabled": False},
    "payment_method_update": {"enabled": False, "payment_method_configuration": None},
    "subscription_cancel": {
        "cancellation_reason": {"enabled": False, "options": []},
        "enabled": False,
        "mode": "at_period_end",
        "proration_behavior": "none",
    },
    "subscription_update": {
        "default_allowed_updates": [],
        "enabled": False,
        "proration_behavior": "none",
        "schedule_at_period_end": {"conditions": []},
        "trial_update_behavior": "end_trial",
        "billing_cycle_anchor": None,
    },
}
# Enums of the spec's create parameters, for the values the emulator checks.
ENUMS = {
    "mode": ("at_period_end", "immediately"),
    "proration_behavior": ("always_invoice", "create_prorations", "none"),
}
ALLOWED_UPDATES = ("address", "email", "name", "phone", "shipping", "tax_id")
FIELDS = {"business_profile", "default_return_url", "features", "login_page", "metadata", "name"}
BUSINESS_PROFILE = {"headline": None, "privacy_policy_url": None, "terms_of_service_url": None}


def _merge(base: Any, given: Any, param: str) -> Any:
    """Apply a nested parameter onto the default shape, refusing keys Stripe doesn't know."""
    if isinstance(base, dict):
        merged = dict(base)
        for key, value in as_dict(given, param).items():
            if key not in base:
                raise StripeError(f"Received unknown parameter: {param}[{key}]", param=param)
            merged[key] = _merge(base[key], value, f"{param}[{key}]")
        return merged
    if isinstance(base, bool):
        return as_bool(given, param)
    if isinstance(base, list):
        return [_merge_item(v, f"{param}[{i}]") for i, v in enumerate(as_list(given, param))]
    key = param.rpartition("[")[2].rstrip("]")
    if key in ENUMS and given not in ENUMS[key]:
        raise invalid(param, f"Invalid {param}: must be one of {', '.join(ENUMS[key])}")
    return given or None


def _merge_item(value: Any, param: str) -> Any:
    allowed_update = param.startswith("features[customer_update][allowed_updates]")
    if allowed_update and value not in ALLOWED_UPDATES:
        raise invalid(param, f"Invalid {param}: must be one of {', '.join(ALLOWED_UPDATES)}")
    return value


def _apply(config: dict[str, Any], params: dict[str, Any]) -> None:
    if "features" in params:
        config["features"] = _merge(config["features"], params["features"], "features")
    if "business_profile" in params:
        config["business_profile"] = _merge(
            config["business_profile"], params["business_profile"], "business_profile"
        )
    if "login_page" in params:
        login = as_dict(params["login_page"], "login_page")
        if as_bool(login.get("enabled", False), "login_page[enabled]"):
            # Refused rather than faked: the emulator serves no portal login page.
            raise invalid("login_page[enabled]", "The Stripe emulator has no portal login page.")
    if "default_return_url" in params:
        config["default_return_url"] = params["default_return_url"] or None
    if "name" in params:
        config["name"] = params["name"] or None
    if "metadata" in params:
        config["metadata"] = merge_metadata(config["metadata"] or {}, params["metadata"])
    config["updated"] = o.now()


def new_configuration(*, is_default: bool, livemode: bool = False) -> dict[str, Any]:
    """A configuration with every feature off, shaped like the fixture."""
    created = o.now()
    return {
        "id": o.new_id("bpc_"),
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": dict(BUSINESS_PROFILE),
        "created": created,
        "default_return_url": None,
        "features": copy.deepcopy(FEATURES),
        "is_default": is_default,
        "livemode": livemode,
        "login_page": {"enabled": False, "url": None},
        "metadata": None,
        "name": None,
        "updated": created,
    }


def configuration_create(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/billing_portal/configurations (never the default one)."""
    reject_unknown(params, FIELDS)
    if not params.get("features"):
        raise missing("features")
    config = new_configuration(is_default=False, livemode=emu.livemode)
    _apply(config, params)
    tx.put(config)
    emu.emit(tx, "billing_portal.configuration.created", config)
    return config


def configuration_update(
    emu: Emulator, tx: Tx, params: dict[str, Any], bpc_id: str
) -> dict[str, Any]:
    """POST /v1/billing_portal/configurations/{id}, `active` included."""
    reject_unknown(params, FIELDS | {"active"})
    config = fetch(tx, "billing_portal.configuration", bpc_id, "configuration")
    _apply(config, params)
    if params.get("active") not in (None, ""):
        config["active"] = as_bool(params["active"], "active")
    tx.put(config)
    emu.emit(tx, "billing_portal.configuration.updated", config)
    return config


def configuration_retrieve(
    emu: Emulator, tx: Tx, params: dict[str, Any], bpc_id: str
) -> dict[str, Any]:
    """GET /v1/billing_portal/configurations/{id}."""
    return fetch(tx, "billing_portal.configuration", bpc_id, "configuration")


def configuration_list(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """GET /v1/billing_portal/configurations, filtered by `active` and `is_default`."""
    items = tx.list("billing_portal.configuration")
    for name in ("active", "is_default"):
        if params.get(name) not in (None, ""):
            wanted = as_bool(params[name], name)
            items = [c for c in items if c[name] == wanted]
    return paginate(items, params, "/v1/billing_portal/configurations")


def default_configuration(emu: Emulator, tx: Tx) -> dict[str, Any]:
    """The account default (as if saved in the Dashboard): created once, then kept."""
    for config in tx.list("billing_portal.configuration"):
        if config["is_default"]:
            return config
    config = new_configuration(is_default=True, livemode=emu.livemode)
    config["features"]["invoice_history"]["enabled"] = True
    config["features"]["subscription_cancel"]["enabled"] = True
    tx.put(config)
    emu.emit(tx, "billing_portal.configuration.created", config)
    return config


def _configuration_for(tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    config_id = params.get("configuration") or None
    if config_id is None:
        defaults = [c for c in tx.list("billing_portal.configuration") if c["is_default"]]
        if not defaults:
            raise StripeError(NO_CONFIGURATION)
        return defaults[0]
    config = tx.get(config_id, "billing_portal.configuration")
    if config is None:
        raise no_such("configuration", config_id, param="configuration")
    if not config["active"]:
        # The emulator's wording: Stripe refuses inactive configurations too.
        raise invalid("configuration", f"The configuration {config_id} is not active.")
    return config


def session_create(emu: Emulator, tx: Tx, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/billing_portal/sessions: needs a configuration, given or the default."""
    reject_unknown(params, {"customer", "return_url", "configuration", "locale", "flow_data"})
    customer_id = params.get("customer")
    if not customer_id:
        raise missing("customer")
    if tx.get(customer_id, "customer") is None:
        raise no_such("customer", customer_id, param="customer")
    return_url = params.get("return_url") or None
    if return_url and not str(return_url).startswith(("http://", "https://")):
        raise invalid("return_url", "Not a valid URL", "url_invalid")
    config = _configuration_for(tx, params)
    session = o.billing_portal_session(customer_id, return_url, emu.site_url)
    session["configuration"] = config["id"]
    session["return_url"] = return_url or config["default_return_url"]
    tx.put(session)
    emu.emit(tx, "billing_portal.session.created", session)
    return session
