"""flask commands: demo content, article import and membership upkeep (see the README)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from donations.accounts.cli import create_staff
from donations.articles.importer import import_articles, markdown_files
from donations.extensions import db
from donations.membership.demo import seed_members
from donations.membership.grace import recheck_grace
from donations.membership.progress import get_progress
from donations.models import utcnow
from donations.payments.cli import stripe_cli, webhooks_cli

DEMO_DIR = Path(__file__).resolve().parent / "articles" / "demo"

articles_cli = AppGroup("articles", help="Manage articles.")
members_cli = AppGroup("members", help="Membership upkeep.")


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


def register(app: Flask) -> None:
    """Attach every command group to the app."""
    app.cli.add_command(seed_demo)
    app.cli.add_command(articles_cli)
    app.cli.add_command(members_cli)
    app.cli.add_command(create_staff)
    app.cli.add_command(stripe_cli)
    app.cli.add_command(webhooks_cli)
