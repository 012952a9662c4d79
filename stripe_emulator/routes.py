"""The emulated REST API's route table: every (method, path) the emulator answers, in one place.

Handlers are plain functions `(emu, tx, params, *path_ids) -> object`; nothing registers itself
on import. `{id}` in a pattern matches one path segment and is passed to the handler.
"""

from __future__ import annotations

from . import api_billing, api_core, balance, disputes, portal
from . import webhook_endpoints as we
from .routing import Router, RouteRow

ROUTES: list[RouteRow] = [
    ("POST", "/v1/customers", api_core.customer_create),
    ("GET", "/v1/customers/{id}", api_core.customer_retrieve),
    ("POST", "/v1/customers/{id}", api_core.customer_update),
    ("GET", "/v1/customers", api_core.customer_list),
    ("POST", "/v1/checkout/sessions", api_core.session_create),
    ("GET", "/v1/checkout/sessions/{id}", api_core.session_retrieve),
    ("GET", "/v1/checkout/sessions/{id}/line_items", api_core.session_line_items),
    ("POST", "/v1/checkout/sessions/{id}/expire", api_core.session_expire),
    ("GET", "/v1/checkout/sessions", api_core.session_list),
    ("POST", "/v1/billing_portal/sessions", portal.session_create),
    ("POST", "/v1/billing_portal/configurations", portal.configuration_create),
    ("GET", "/v1/billing_portal/configurations/{id}", portal.configuration_retrieve),
    ("POST", "/v1/billing_portal/configurations/{id}", portal.configuration_update),
    ("GET", "/v1/billing_portal/configurations", portal.configuration_list),
    ("POST", "/v1/webhook_endpoints", we.create),
    ("GET", "/v1/webhook_endpoints/{id}", we.retrieve),
    ("POST", "/v1/webhook_endpoints/{id}", we.update),
    ("DELETE", "/v1/webhook_endpoints/{id}", we.delete),
    ("GET", "/v1/webhook_endpoints", we.list_endpoints),
    ("GET", "/v1/balance", api_core.balance_retrieve),
    ("GET", "/v1/balance_transactions/{id}", balance.api_retrieve),
    ("GET", "/v1/balance_transactions", balance.api_list),
    ("GET", "/v1/events/{id}", api_core.event_retrieve),
    ("GET", "/v1/events", api_core.event_list),
    ("GET", "/v1/subscriptions/{id}", api_billing.sub_retrieve),
    ("POST", "/v1/subscriptions/{id}", api_billing.sub_update),
    ("DELETE", "/v1/subscriptions/{id}", api_billing.sub_cancel),
    ("GET", "/v1/subscriptions", api_billing.sub_list),
    ("GET", "/v1/invoices/{id}", api_billing.invoice_retrieve),
    ("GET", "/v1/invoices", api_billing.invoice_list),
    ("GET", "/v1/charges/{id}", api_billing.charge_retrieve),
    ("GET", "/v1/charges", api_billing.charge_list),
    ("GET", "/v1/payment_intents/{id}", api_billing.pi_retrieve),
    ("GET", "/v1/payment_intents", api_billing.pi_list),
    ("POST", "/v1/refunds", api_billing.refund_create),
    ("GET", "/v1/refunds/{id}", api_billing.refund_retrieve),
    ("GET", "/v1/refunds", api_billing.refund_list),
    ("GET", "/v1/disputes/{id}", disputes.api_retrieve),
    ("GET", "/v1/disputes", disputes.api_list),
]

ROUTER = Router(ROUTES)
