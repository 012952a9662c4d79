"""flask create-staff: create a staff account or promote an existing one."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from donations.accounts import services
from donations.accounts.passwords import MIN_LENGTH
from donations.extensions import db


@click.command("create-staff")
@click.argument("email")
@click.option(
    "--password",
    default=None,
    help="Set this password. Without it, an existing account keeps its password and a new "
    "one is asked for (hidden, typed twice).",
)
@with_appcontext
def create_staff(email: str, password: str | None) -> None:
    """Create a staff account for EMAIL, or give an existing account the staff role."""
    try:
        email = services.normalise_email(email)
        if password is None and services.find_user(email) is None:
            password = click.prompt(
                f"Password for the new staff account (at least {MIN_LENGTH} characters)",
                hide_input=True,
                confirmation_prompt=True,
            )
        user, created = services.make_staff(email, password)
    except services.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(f"{email}: {exc}") from None
    db.session.commit()
    if created:
        click.echo(f"Created staff account {user.email}.")
    else:
        changed = " and set a new password" if password is not None else ""
        click.echo(f"{user.email} is now staff{changed}.")
