"""flask stripe …: reprocess a stored event; reconcile with Stripe (see `stripe sync`)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from donations.extensions import db
from donations.payments.ledger import replay

stripe_cli = AppGroup("stripe", help="Stripe events and reconciliation.")


@stripe_cli.command("replay")
@click.argument("event_id")
def replay_command(event_id: str) -> None:
    """Reprocess one stored event (for example one that failed) from its stored payload."""
    try:
        outcome = replay(event_id, livemode=not current_app.config["STRIPE_TEST_MODE"])
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if outcome.status == "failed":
        raise click.ClickException(f"{event_id} failed again: {outcome.error}")
    click.echo(f"{event_id}: {outcome.status}")
