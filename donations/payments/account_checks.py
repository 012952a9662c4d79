"""What `stripe check` proves beyond the account's settings, and what a laptop needs instead.

- A delivery round-trip: with the emulator standing in for Stripe, a signed test event goes
  to our endpoint now (its type is ours, `donations.webhook_check`, so the ledger stores it
  as ignored and no count moves), and we look for it in the ledger. Stripe's API has no such
  call, so on a real account the report says how to prove it (`stripe trigger`, the
  endpoint's delivery log).
- Laptops: Stripe refuses webhook endpoints on localhost and private addresses, so the site
  is reached through `stripe listen --forward-to`, whose signing secret is fixed per machine
  and account (`stripe listen --print-secret` prints it).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from secrets import token_hex
from typing import Any

from donations.payments.account import check_account, our_endpoint, setup_line
from donations.payments.account_types import WebhookEndpoint

CHECK_EVENT_TYPE = "donations.webhook_check"
LISTEN_TIMEOUT_SECONDS = 30


@dataclass
class CheckReport:
    """`stripe check`'s findings: problems fail it (exit 1); warnings and notes are printed."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def listen_command(url: str, events: tuple[str, ...] = ()) -> str:
    """The `stripe listen` line that forwards our events (all, if none named) to this site."""
    line = f"stripe listen --forward-to {url}"
    return f"{line} --events {','.join(events)}" if events else line


def listen_secret(api_key: str) -> str | None:
    """The signing secret `stripe listen` uses with this key; None without the Stripe CLI."""
    cli = shutil.which("stripe")
    if cli is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - our argv, no shell; the CLI found on PATH
            [cli, "listen", "--print-secret", "--api-key", api_key],
            capture_output=True,
            text=True,
            timeout=LISTEN_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = [w for w in done.stdout.split() if w.startswith("whsec_")]
    return found[0] if done.returncode == 0 and found else None


def prove_delivery(
    emulator: Any, endpoint: WebhookEndpoint, stored_status: Callable[[str], str | None]
) -> tuple[str | None, str]:
    """Send a signed test event to the endpoint and find it in our ledger.

    Returns (problem or None, what happened). `stored_status(event_id)` reads the ledger.
    """
    marker = {"id": f"whcheck_{token_hex(8)}", "object": CHECK_EVENT_TYPE}
    sent = emulator.send_test_webhook(endpoint.id, CHECK_EVENT_TYPE, marker)
    where = f"{endpoint.url}"
    if sent.status is None:
        return (
            f"a signed test delivery could not reach {where} ({sent.error}): is the site "
            "running there? (`--no-delivery` skips this proof)",
            "",
        )
    if sent.status == 503:
        return (
            f"{where} answered 503 to a signed test delivery: the server has no "
            "STRIPE_WEBHOOK_SECRET; set it and restart the server",
            "",
        )
    if sent.status == 400:
        return (
            f"{where} refused a test delivery signed with endpoint {endpoint.id}'s secret "
            "(HTTP 400): the server's STRIPE_WEBHOOK_SECRET is not this endpoint's secret",
            "",
        )
    if not 200 <= sent.status < 300:
        return f"{where} answered HTTP {sent.status} to a signed test delivery", ""
    status = stored_status(sent.event_id)
    if status is None:
        return (
            f"{where} accepted test event {sent.event_id} but it is not in this database: "
            "does the server use another DATABASE_URL?",
            "",
        )
    return None, (
        f"a signed test delivery ({sent.event_id}) reached {where}, was verified and stored "
        f"({status}; it counts nothing)"
    )


def real_delivery_note(test_mode: bool, endpoint: WebhookEndpoint) -> str:
    """How to prove deliveries on a real account, where Stripe's API cannot send a test."""
    resend = (
        f"`stripe events resend EVENT_ID --webhook-endpoint {endpoint.id}` sends a past event "
        f"to {endpoint.url} again (a duplicate changes nothing); its answer shows under the "
        "endpoint in the Dashboard (Workbench → Webhooks) and the event in /staff/events"
    )
    if test_mode:
        return f"to prove a signed delivery: `stripe trigger invoice.paid` (test data), or {resend}"
    return f"to prove a signed delivery once the account has events: {resend}"


@dataclass(frozen=True)
class CheckPlan:
    """What `stripe check` should look at: the site's settings and the operator's options."""

    webhook_url: str
    api_version: str
    test_mode: bool
    secrets: tuple[str, ...]
    api_key: str
    local: bool  # reached through `stripe listen` (a real key on a laptop): no endpoint
    delivery: bool  # prove a signed delivery where the mode allows it


def check_site(
    gateway: Any, plan: CheckPlan, stored_status: Callable[[str], str | None]
) -> CheckReport:
    """Run every check of `stripe check` and return its findings (no output here)."""
    report = CheckReport()
    report.problems += check_account(
        gateway,
        webhook_url=None if plan.local else plan.webhook_url,
        api_version=plan.api_version,
        expect_live=not plan.test_mode,
    )
    if not plan.secrets:
        report.problems.append(
            "STRIPE_WEBHOOK_SECRET is not set, so the site refuses every delivery (503): "
            "set it to the endpoint's signing secret (`"
            + setup_line(None if plan.local else plan.webhook_url, emulated=False)
            + "` shows it when it creates the endpoint; the Dashboard reveals it) and restart"
        )
    if plan.local:
        _check_listen(report, plan)
        return report
    endpoint = our_endpoint(gateway, plan.webhook_url, plan.api_version)
    if not plan.delivery or endpoint is None or report.problems:
        return report
    if gateway.emulator is None:
        report.notes.append(real_delivery_note(plan.test_mode, endpoint))
        return report
    problem, happened = prove_delivery(gateway.emulator, endpoint, stored_status)
    if problem:
        report.problems.append(problem)
    else:
        report.notes.append(happened)
    return report


def _check_listen(report: CheckReport, plan: CheckPlan) -> None:
    """A laptop: the secret must be the one `stripe listen` signs with on this machine."""
    command = listen_command(plan.webhook_url)
    secret = listen_secret(plan.api_key)
    if secret is None:
        report.notes.append(
            "the Stripe CLI is not installed here, so `stripe listen`'s secret can't be "
            f"compared: run `{command}` and check that the whsec_… it "
            "prints is in STRIPE_WEBHOOK_SECRET"
        )
    elif secret not in plan.secrets:
        report.problems.append(
            "STRIPE_WEBHOOK_SECRET does not hold the secret `stripe listen` signs with on "
            f"this machine (…{secret[-4:]}): every forwarded event would be refused (400); "
            "`flask --app wsgi stripe setup --local` shows it"
        )
    else:
        report.notes.append("STRIPE_WEBHOOK_SECRET holds `stripe listen`'s secret")
