"""flask stripe …: replay an event, reconcile (`stripe sync`); the queue's worker.

The account commands (`stripe setup`, `check`, `secret`) are in account_cli.py.
"""

from __future__ import annotations

import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from donations.core.mail_sender import send_all_due
from donations.core.words import count_of
from donations.extensions import db
from donations.models import utcnow
from donations.payments.account_cli import check_command, secret_command, setup_command
from donations.payments.gateway import get_gateway
from donations.payments.ledger import replay
from donations.payments.queue import BATCH, webhook_backlog, work
from donations.payments.sync import run_sync

stripe_cli = AppGroup("stripe", help="Stripe account set-up, events and reconciliation.")
webhooks_cli = AppGroup("webhooks", help="The webhook queue (WEBHOOK_QUEUE=1).")
for command in (setup_command, check_command, secret_command):
    stripe_cli.add_command(command)


@stripe_cli.command("replay")
@click.argument("event_id")
def replay_command(event_id: str) -> None:
    """Reprocess one stored event (for example one that failed) from its stored payload."""
    try:
        outcome = replay(
            event_id,
            livemode=not current_app.config["STRIPE_TEST_MODE"],
            installation=current_app.config["INSTALLATION_TAG"],
        )
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if outcome.status == "failed":
        raise click.ClickException(f"{event_id} failed again: {outcome.error}")
    why = f" (changed nothing: {outcome.no_effect.meaning})" if outcome.no_effect else ""
    click.echo(f"{event_id}: {outcome.status}{why}")
    _send_new_mail()


def _send_new_mail() -> None:
    """Send the mails the command put in the outbox (a claim link); the worker retries them."""
    report = send_all_due(fresh_only=True)
    if report.sent or report.failed:
        click.echo(f"Mail: {report.sent} sent, {report.failed} left for the worker to retry.")


class SyncProgress:
    """`stripe sync`'s count of objects read, on stderr, ending on each kind's last count.

    Stripe's lists have no total to size a bar with, so it is a counter: on a terminal one
    line per kind, redrawn in place; in a log or a pipe each count is a line of its own, so
    the counts never run together.
    """

    EVERY = 50

    def __init__(self, *, tty: bool) -> None:
        self.tty = tty
        self.kind = ""
        self.seen = self.shown = 0

    def __call__(self, kind: str, seen: int) -> None:
        """Count `seen` objects of `kind` read so far."""
        if kind != self.kind:
            self.finish()
            self.kind = kind
        self.seen = seen
        if seen == 1 or seen % self.EVERY == 0:
            self._show()

    def finish(self) -> None:
        """Show the current kind's last count and end its line."""
        if not self.kind:
            return
        if self.shown != self.seen:
            self._show()
        if self.tty:
            click.echo(err=True)
        self.kind, self.seen, self.shown = "", 0, 0

    def _show(self) -> None:
        line = f"{self.kind}: {self.seen} read"
        if self.tty:
            click.echo(f"\r{line}", nl=False, err=True)
        else:
            click.echo(line, err=True)
        self.shown = self.seen


@stripe_cli.command("sync")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--days", default=90, show_default=True, help="How far back to read payments.")
def sync_command(dry_run: bool, days: int) -> None:
    """Reconcile supporters, memberships and donations from Stripe (repairs missed webhooks)."""
    progress = SyncProgress(tty=sys.stderr.isatty())
    report = run_sync(get_gateway(), dry_run=dry_run, days=days, progress=progress)
    progress.finish()
    prefix = "would change" if dry_run else "changed"
    for line in report.changes:
        click.echo(f"  {line}")
    counts = ", ".join(f"{key} {n}" for key, n in sorted(report.counts.items())) or "nothing"
    click.echo(f"Read {count_of(report.examined, 'Stripe object')}; {prefix}: {counts}.")
    if dry_run:
        click.echo("Dry run: nothing was written.")
    elif not report.error:  # (after an error the worker sends what was written)
        _send_new_mail()
    if report.error:
        raise click.ClickException(f"sync stopped: {report.error}")


@webhooks_cli.command("work")
@click.option("--once", is_flag=True, help="Stop when the queue is empty.")
@click.option("--batch", default=BATCH, show_default=True, help="Events per transaction.")
@click.option("--idle", default=0.2, show_default=True, help="Seconds between looks when idle.")
def work_command(once: bool, batch: int, idle: float) -> None:
    """Process stored webhook events until stopped (SIGTERM or Ctrl-C finish the batch)."""
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    try:
        done = work(
            livemode=not current_app.config["STRIPE_TEST_MODE"],
            installation=current_app.config["INSTALLATION_TAG"],
            stop=lambda: bool(stopping),
            once=once,
            batch=batch,
            idle=idle,
        )
    except KeyboardInterrupt:
        db.session.rollback()
        return
    click.echo(f"{count_of(done, 'event')} processed.")


@webhooks_cli.command("backlog")
def backlog_command() -> None:
    """Print how many stored events wait for the worker and how old the oldest is."""
    backlog = webhook_backlog(utcnow())
    age = backlog.oldest_pending_seconds
    oldest = "-" if age is None else f"{age:.1f}s"
    click.echo(f"{count_of(backlog.pending, 'event')} waiting; oldest {oldest}")
