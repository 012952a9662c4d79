"""Making a Stripe account ready for this site, and checking that it is (design §6).

`stripe setup` and `stripe check` both read the event list from the webhook handler table,
so the events Stripe sends can never drift from the events we handle. The same setup runs
against the emulator at start-up in emulator mode: the demo path is the production path.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from donations.payments.account_types import PORTAL_MARKER, WebhookEndpoint, portal_configuration
from donations.payments.gateway import Gateway
from donations.payments.ledger import HANDLERS

# Exactly the event types our handlers apply; everything else would only fill the ledger.
WEBHOOK_EVENTS: tuple[str, ...] = tuple(sorted(HANDLERS))


def is_local_url(url: str) -> bool:
    """Whether Stripe could never reach this URL: localhost or a non-public address."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost") or not host:
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False  # a name: it may well be public


def setup_line(webhook_url: str | None, *, emulated: bool) -> str:
    """The `stripe setup` command that makes what `stripe check` found missing, ready to run.

    A real key can't have an endpoint on this machine (Stripe refuses it): `--local` then.
    """
    if webhook_url is None or (is_local_url(webhook_url) and not emulated):
        return "flask --app wsgi stripe setup --local"
    return f"flask --app wsgi stripe setup --webhook-url {webhook_url}"


@dataclass
class SetupReport:
    """What `stripe setup` did, line by line; `secret` is set when an endpoint was created."""

    lines: list[str] = field(default_factory=list)
    changed: bool = False
    secret: str | None = None


def _endpoint_at(
    endpoints: list[WebhookEndpoint], url: str, version: str
) -> WebhookEndpoint | None:
    return next((e for e in endpoints if e.url == url and e.api_version == version), None)


def setup_account(
    gateway: Gateway,
    *,
    webhook_url: str | None,
    api_version: str,
    return_url: str,
    before_create: Callable[[], None] | None = None,
) -> SetupReport:
    """Create or update the webhook endpoint and the portal configuration, idempotently.

    `webhook_url` None: the portal configuration only (a laptop: `stripe listen` forwards).
    `before_create` runs just before an endpoint (and so a new secret) is made: it may refuse.
    """
    report = SetupReport()
    if webhook_url is not None:
        _setup_endpoint(gateway, report, webhook_url, api_version, before_create)
    _setup_portal(gateway, report, return_url)
    return report


def _setup_endpoint(
    gateway: Gateway,
    report: SetupReport,
    webhook_url: str,
    api_version: str,
    before_create: Callable[[], None] | None,
) -> None:
    endpoints = gateway.webhook_endpoints()
    endpoint = _endpoint_at(endpoints, webhook_url, api_version)
    if endpoint is None:
        if before_create is not None:
            before_create()
        for old in (e for e in endpoints if e.url == webhook_url):
            # Stripe never changes an endpoint's API version, so an old one can't be fixed.
            report.lines.append(
                f"endpoint {old.id} at this URL is on API version {old.api_version}; "
                "a new one is created: set STRIPE_WEBHOOK_SECRET to its secret, then delete "
                f"{old.id} in the Stripe Dashboard"
            )
        endpoint = gateway.create_webhook_endpoint(webhook_url, WEBHOOK_EVENTS, api_version)
        report.changed, report.secret = True, endpoint.secret
        report.lines.append(
            f"created webhook endpoint {endpoint.id} for {webhook_url} "
            f"(API {api_version}, {len(WEBHOOK_EVENTS)} events)"
        )
    elif set(endpoint.enabled_events) != set(WEBHOOK_EVENTS) or endpoint.status != "enabled":
        added = sorted(set(WEBHOOK_EVENTS) - set(endpoint.enabled_events))
        removed = sorted(set(endpoint.enabled_events) - set(WEBHOOK_EVENTS))
        gateway.update_webhook_endpoint(endpoint.id, WEBHOOK_EVENTS)
        report.changed = True
        report.lines.append(
            f"updated webhook endpoint {endpoint.id}: enabled"
            + (f", added {', '.join(added)}" if added else "")
            + (f", removed {', '.join(removed)}" if removed else "")
        )
    else:
        report.lines.append(f"webhook endpoint {endpoint.id} is up to date")


def _setup_portal(gateway: Gateway, report: SetupReport, return_url: str) -> None:
    config = portal_configuration(gateway.portal_configurations())
    if config is None:
        config_id = gateway.create_portal_configuration(
            return_url=return_url, marker=dict(PORTAL_MARKER)
        )
        report.changed = True
        report.lines.append(f"created Billing Portal configuration {config_id}")
    else:
        report.lines.append(f"Billing Portal configuration {config.id} is in place")


def check_account(
    gateway: Gateway, *, webhook_url: str | None, api_version: str, expect_live: bool
) -> list[str]:
    """Everything that stops the account from serving this site; empty when ready.

    `webhook_url` None: no endpoint is expected (a laptop, reached through `stripe listen`).
    """
    problems: list[str] = []
    live = gateway.account_livemode()
    if live != expect_live:
        want, got = ("live", "test") if expect_live else ("test", "live")
        problems.append(f"the key reaches {got} mode, but this site is configured for {want}")
    setup = setup_line(webhook_url, emulated=gateway.emulator is not None)
    if webhook_url is not None:
        problems += _endpoint_problems(gateway, webhook_url, api_version, setup)
    if portal_configuration(gateway.portal_configurations()) is None:
        problems.append(f"no active Billing Portal configuration: run `{setup}`")
    return problems


def our_endpoint(gateway: Gateway, webhook_url: str, api_version: str) -> WebhookEndpoint | None:
    """The endpoint at this URL in our API version, if the account has one."""
    return _endpoint_at(gateway.webhook_endpoints(), webhook_url, api_version)


def _endpoint_problems(
    gateway: Gateway, webhook_url: str, api_version: str, setup: str
) -> list[str]:
    problems: list[str] = []
    every = gateway.webhook_endpoints()
    endpoints = [e for e in every if e.url == webhook_url]
    endpoint = _endpoint_at(endpoints, webhook_url, api_version)
    if not endpoints:
        problems.append(f"no webhook endpoint for {webhook_url}: run `{setup}`")
        others = sorted({e.url for e in every})
        if others and is_local_url(webhook_url):
            # Most often SITE_URL names another port than the server was started on.
            problems[-1] += (
                f"; endpoints exist for {', '.join(others)}: if the server runs there, set "
                "SITE_URL to its address (the URL checked is SITE_URL + /stripe/webhook)"
            )
    elif endpoint is None:
        versions = ", ".join(str(e.api_version) for e in endpoints)
        problems.append(
            f"the endpoint for {webhook_url} is on API version {versions}, not {api_version}"
        )
    else:
        enabled = set(endpoint.enabled_events)
        missing = [] if "*" in enabled else sorted(set(WEBHOOK_EVENTS) - enabled)
        if missing:
            problems.append(f"endpoint {endpoint.id} is missing events: {', '.join(missing)}")
        if endpoint.status != "enabled":
            problems.append(f"endpoint {endpoint.id} is {endpoint.status}")
    return problems
