"""flask stripe setup / check / secret: making the Stripe account ready, and proving it is.

Errors say what Stripe said (message, code, param) and what to do, never a traceback. A live
signing secret is never written where a log could keep it: to a file the operator names
(`--secret-file`, mode 0600), or once to a terminal; otherwise set-up refuses before it
makes the endpoint (design.md §6 prints it; see README "From test to live").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from donations.payments.account import WEBHOOK_EVENTS, SetupReport, is_local_url, setup_account
from donations.payments.account_checks import CheckPlan, check_site, listen_command, listen_secret
from donations.payments.gateway import get_gateway
from donations.payments.ledger import stored_status
from donations.payments.ownership_check import check_warnings
from donations.payments.types import ProviderError


def _site_webhook_url() -> str:
    return current_app.config["SITE_URL"] + "/stripe/webhook"


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def write_secret_file(path: Path, secret: str) -> None:
    """Write the secret to `path`, readable by its owner only (0600), replacing what was there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode on open: narrow it too
        os.write(fd, (secret + "\n").encode())
    finally:
        os.close(fd)


@click.command("setup")
@click.option("--webhook-url", default=None, help="Public https URL of POST /stripe/webhook.")
@click.option(
    "--local",
    is_flag=True,
    help="The site runs on this machine: no endpoint with a real key (`stripe listen` "
    "forwards events); the emulator's own endpoint in emulator mode.",
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a new signing secret to this file (mode 0600) instead of showing it.",
)
@with_appcontext
def setup_command(webhook_url: str | None, local: bool, secret_file: Path | None) -> None:
    """Create or update the webhook endpoint and the Billing Portal configuration."""
    config = current_app.config
    if bool(webhook_url) == local:
        raise click.UsageError("give --webhook-url URL (a public site) or --local (this machine)")
    live = not config["STRIPE_TEST_MODE"]
    if local and not config["STRIPE_EMULATOR"]:
        if live:
            raise click.ClickException(
                "--local is for test mode on this machine; a live site gives its public "
                "https URL: --webhook-url https://YOUR-SITE/stripe/webhook"
            )
        _setup_laptop(secret_file)
        return
    url = webhook_url or _site_webhook_url()
    if not config["STRIPE_EMULATOR"] and is_local_url(url):
        raise click.ClickException(
            f"Stripe can't deliver to {url} (localhost or a private address), and refuses such "
            "endpoints. On this machine run `flask --app wsgi stripe setup --local` and "
            f"`{listen_command(url)}`; a public site gives its https URL."
        )

    def before_create() -> None:
        if live and secret_file is None and not _stdout_is_terminal():
            raise click.ClickException(
                "this creates a webhook endpoint, and Stripe shows its live signing secret only "
                "now; stdout is not a terminal, so a log could keep it. Run it in a terminal "
                "(the secret is shown once) or add --secret-file PATH (written with mode 0600)."
            )

    report = _run_setup(url, before_create)
    emulated = config["STRIPE_EMULATOR"] and report.secret in config["STRIPE_WEBHOOK_SECRETS"]
    if report.secret and emulated and secret_file is None:
        # The emulator signs with the app's own secret (derived from SECRET_KEY while
        # STRIPE_WEBHOOK_SECRET is empty): there is nothing to copy into .env.
        click.echo(
            f"Signing secret {report.secret}: the emulator signs with this app's "
            "STRIPE_WEBHOOK_SECRET (derived from SECRET_KEY while it is empty), so there is "
            "nothing to set."
        )
    elif report.secret:
        _hand_over(report.secret, secret_file, live)


def _run_setup(url: str | None, before_create: Callable[[], None] | None = None) -> SetupReport:
    config = current_app.config
    try:
        report = setup_account(
            get_gateway(),
            webhook_url=url,
            api_version=config["STRIPE_API_VERSION"],
            return_url=config["SITE_URL"] + "/account",
            before_create=before_create,
        )
    except ProviderError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines:
        click.echo(line)
    if not report.changed:
        click.echo("Nothing to change: the account is already set up.")
    return report


def _hand_over(secret: str, secret_file: Path | None, live: bool) -> None:
    """Give the operator a new endpoint's signing secret, where no log keeps a live one."""
    if secret_file is not None:
        write_secret_file(secret_file, secret)
        click.echo(
            f"Signing secret written to {secret_file} (mode 0600): set STRIPE_WEBHOOK_SECRET "
            "to its content, restart, then run `flask --app wsgi stripe check`."
        )
        return
    click.echo(f"Signing secret (set STRIPE_WEBHOOK_SECRET to it): {secret}")
    if live:
        click.echo("Shown once: Stripe's API never returns it again (the Dashboard can reveal it).")


def _setup_laptop(secret_file: Path | None) -> None:
    """A real test key on this machine: the portal only; events come through `stripe listen`."""
    config = current_app.config
    _run_setup(None)
    url = _site_webhook_url()
    click.echo(
        "Stripe can't reach this machine, so no webhook endpoint is made. Forward our events "
        f"with the Stripe CLI, and leave it running:\n  {listen_command(url, WEBHOOK_EVENTS)}"
    )
    secret = listen_secret(config["STRIPE_SECRET_KEY"])
    if secret is None:
        click.echo(
            "Then put the whsec_… it prints in STRIPE_WEBHOOK_SECRET (`stripe listen "
            "--print-secret` prints it alone) and restart. (The Stripe CLI is not installed "
            "here: docs.stripe.com/stripe-cli.)"
        )
    elif secret in config["STRIPE_WEBHOOK_SECRETS"]:
        click.echo("STRIPE_WEBHOOK_SECRET already holds the secret `stripe listen` signs with.")
    elif secret_file is not None:
        write_secret_file(secret_file, secret)
        click.echo(f"`stripe listen`'s signing secret written to {secret_file} (mode 0600).")
    else:
        # A test-mode secret, fixed for this machine and account: no harm in showing it.
        click.echo(f"Put STRIPE_WEBHOOK_SECRET={secret} in .env (`stripe listen`'s), and restart.")


@click.command("check")
@click.option("--webhook-url", default=None, help="Defaults to SITE_URL + /stripe/webhook.")
@click.option(
    "--local", is_flag=True, help="A real test key on this machine: `stripe listen` forwards."
)
@click.option("--no-delivery", is_flag=True, help="Skip the signed delivery round-trip.")
@with_appcontext
def check_command(webhook_url: str | None, local: bool, no_delivery: bool) -> None:
    """Verify key mode, webhook endpoint and secret, and portal; exit 1 if anything is missing."""
    config = current_app.config
    url = webhook_url or _site_webhook_url()
    plan = CheckPlan(
        webhook_url=url,
        api_version=config["STRIPE_API_VERSION"],
        test_mode=config["STRIPE_TEST_MODE"],
        secrets=config["STRIPE_WEBHOOK_SECRETS"],
        api_key=config["STRIPE_SECRET_KEY"],
        local=local and not config["STRIPE_EMULATOR"],
        delivery=not no_delivery,
    )
    try:
        report = check_site(get_gateway(), plan, stored_status)
    except ProviderError as exc:
        raise click.ClickException(str(exc)) from None
    for problem in report.problems:
        click.echo(f"missing: {problem}", err=True)
    for note in report.notes:
        click.echo(f"note: {note}")
    # Printed after the checks, and never failing them: other money on the account is counted
    # as ours unless STRIPE_ACCOUNT_SHARED=1 (payments.ownership).
    warnings = [*report.warnings, *_ownership_warnings(config)]
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.problems:
        raise SystemExit(1)
    if plan.local:
        click.echo(f"Stripe is ready for this machine: `stripe listen` forwards to {url}.")
    else:
        click.echo(f"Stripe is ready: {url} receives all {len(WEBHOOK_EVENTS)} events we handle.")


def _ownership_warnings(config: dict) -> list[str]:
    try:
        return check_warnings(
            get_gateway(),
            installation=config["INSTALLATION_TAG"],
            shared=config["STRIPE_ACCOUNT_SHARED"],
        )
    except ProviderError as exc:  # a warning, never a failed check
        return [f"could not list the account's recent objects: {exc}"]


@click.command("secret")
@with_appcontext
def secret_command() -> None:
    """Print the webhook signing secret this app verifies with (test mode and emulator only)."""
    config = current_app.config
    if not config["STRIPE_TEST_MODE"]:
        # A live secret belongs in the secrets store, not on a terminal or in shell history.
        raise click.ClickException("refused with a live key: read it from your secrets store")
    if not config["STRIPE_WEBHOOK_SECRET"]:
        raise click.ClickException("STRIPE_WEBHOOK_SECRET is not set")
    click.echo(config["STRIPE_WEBHOOK_SECRET"])
    click.echo(f"installation tag {config['INSTALLATION_TAG']} for {config['SITE_URL']}", err=True)
