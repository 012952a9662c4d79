"""flask commands: demo content, article import and membership upkeep (see the README)."""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from donations.accounts.cli import create_staff
from donations.articles.importer import import_articles, markdown_files
from donations.core import mail_sender, outbox
from donations.extensions import db
from donations.membership.demo import seed_members
from donations.membership.grace import recheck_grace
from donations.membership.progress import get_progress
from donations.models import utcnow
from donations.payments.cli import stripe_cli, webhooks_cli

DEMO_DIR = Path(__file__).resolve().parent / "articles" / "demo"

articles_cli = AppGroup("articles", help="Manage articles.")
members_cli = AppGroup("members", help="Membership upkeep.")
mail_cli = AppGroup("mail", help="The mail outbox.")


@click.command("seed-demo")
@click.option(
    "--members",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also make sure this many synthetic members exist (for the tracker and dashboard).",
)
def seed_demo(members: int) -> None:
    """Create the demo articles that are missing, and optionally synthetic members (rerunnable).

    Existing articles are left as they are: `make run` seeds on every start, and must not undo
    what someone wrote in the editor.
    """
    report = import_articles(markdown_files(DEMO_DIR), keep_existing=True)
    if report.failed:
        db.session.rollback()
        raise click.ClickException(f"demo articles are broken: {report.failed}")
    added = seed_members(members) if members else 0
    db.session.commit()
    click.echo(
        f"Demo content: {len(report.created)} articles created, "
        f"{len(report.kept)} already there (left as they are)."
    )
    if members:
        click.echo(f"Demo members: {added} added; {get_progress().members:,} members in all.")


@articles_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_command(path: Path) -> None:
    """Import Markdown files with front matter; re-importing updates by slug."""
    files = markdown_files(path)
    if not files:
        raise click.ClickException(f"no .md files found at {path}")
    report = import_articles(files)
    db.session.commit()
    for slug in report.created:
        click.echo(f"created  {slug}")
    for slug in report.updated:
        click.echo(f"updated  {slug}")
    for name, reason in report.failed:
        click.echo(f"FAILED   {name}: {reason}", err=True)
    click.echo(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.failed)} failed."
    )
    if report.failed:
        raise SystemExit(1)


@members_cli.command("expire-grace")
def expire_grace_command() -> None:
    """End the grace of past_due memberships whose MEMBER_GRACE_DAYS ran out (run daily)."""
    changed = recheck_grace(utcnow())
    db.session.commit()
    click.echo(
        f"{changed} past-due membership{'s' if changed != 1 else ''} updated; "
        f"{get_progress().members:,} members."
    )


@mail_cli.command("send")
def mail_send_command() -> None:
    """Send every mail of the outbox that is due now, then stop."""
    report = mail_sender.send_all_due()
    click.echo(
        f"{report.sent} sent, {report.failed} failed (retried later), {report.skipped} skipped."
    )
    # A failed mail waits for its next try: "0 sent" alone would read as "nothing to send".
    left = outbox.mail_backlog(utcnow())
    if left.pending or left.given_up:
        click.echo(
            f"Still unsent: {left.pending} waiting for their next try "
            f"({left.failing} after a failure), {left.given_up} given up (see /healthz)."
        )


@mail_cli.command("work")
@click.option("--idle", default=1.0, show_default=True, help="Seconds between looks when idle.")
def mail_work_command(idle: float) -> None:
    """Send the outbox's mails as they come due, until stopped (SIGTERM or Ctrl-C)."""
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    try:
        report = mail_sender.work(stop=lambda: bool(stopping), idle=idle)
    except KeyboardInterrupt:
        db.session.rollback()
        return
    click.echo(f"{report.sent} sent, {report.failed} failed, {report.skipped} skipped.")


DATABASE_DOWN_EXIT = 2  # as wsgi.py's configuration errors: the operator's to fix, not a bug


def database_down_line(url: str, exc: OperationalError | InterfaceError) -> str:
    """One line for an unreachable database: its URL without the password, and the reason."""
    parts = make_url(url)
    # URL.set(password=None) keeps the password (None means "unchanged"): build it anew.
    bare = URL.create(
        parts.drivername, parts.username, None, parts.host, parts.port, parts.database
    )
    where = bare.render_as_string(hide_password=False)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return f"donations: cannot connect to the database {where}: {reason}"


def _answers_database_down(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command's callback: a failed connect is one line on stderr and exit 2."""
    if getattr(callback, "answers_database_down", False):
        return callback  # the commands are module-level: every create_app() registers them again

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            # SQLAlchemy gives a failed connect no statement; a bad query (SQLite's "no such
            # table" is an OperationalError too) has one, and stays a traceback: it is a bug.
            if exc.statement is not None:
                raise
            click.echo(database_down_line(current_app.config["DATABASE_URL"], exc), err=True)
            raise SystemExit(DATABASE_DOWN_EXIT) from None

    run.answers_database_down = True  # type: ignore[attr-defined]
    return run


def _guard(command: click.Command) -> click.Command:
    """Give this command, and every command of a group, the one-line database-down answer."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _guard(sub)
    if command.callback is not None:
        command.callback = _answers_database_down(command.callback)
    return command


def register(app: Flask) -> None:
    """Attach every command group to the app; none of them answers a dead database with a trace."""
    for command in (
        seed_demo,
        articles_cli,
        members_cli,
        create_staff,
        stripe_cli,
        webhooks_cli,
        mail_cli,
    ):
        app.cli.add_command(_guard(command))
