"""`flask emulator ...`: test controls for the offline Stripe emulator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from . import objects as o
from .core import Emulator
from .disputes import STATUSES
from .dunning import END_STATES
from .errors import EmulatorError
from .extension import get_emulator
from .refunds import FAILURE_REASONS

emulator_cli = AppGroup("emulator", help="Control the offline Stripe emulator (test mode only).")


def _date(ts: int | None) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def _run(action: Callable[[Emulator], str]) -> None:
    """Run a control, print its one-line result, then deliver the events it queued."""
    try:
        emu = get_emulator(current_app)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        click.echo(action(emu))
    except EmulatorError as exc:
        raise click.ClickException(str(exc)) from exc
    _deliver(emu)


def _deliver(emu: Emulator) -> None:
    # This process exits right away, so deliver now rather than in a background thread.
    timeout = float(current_app.config.get("STRIPE_EMULATOR_CLI_TIMEOUT", 5.0))
    delivered = emu.deliver_pending(timeout=timeout)
    pending = [r for r in emu.deliveries() if r["status"] in ("pending", "delivering")]
    line = f"Webhooks: {delivered} delivered"
    if pending:
        last = pending[-1]["last_error"] or "not yet attempted"
        line += f", {len(pending)} still pending ({last}); the running app will retry them"
    click.echo(line + ".")


@emulator_cli.command("list")
def list_command() -> None:
    """List customers and subscriptions with status and period end."""
    emu = get_emulator(current_app)
    customers = emu.list_objects("customer")
    click.echo(f"Customers ({len(customers)}):")
    for cust in customers:
        click.echo(f"  {cust['id']}  {cust['email'] or '-'}  {cust['name'] or ''}".rstrip())
    subs = emu.list_objects("subscription")
    click.echo(f"Subscriptions ({len(subs)}):")
    for sub in subs:
        item = sub["items"]["data"][0]
        ending = " (cancels at period end)" if sub["cancel_at_period_end"] else ""
        click.echo(
            f"  {sub['id']}  {sub['customer']}  {sub['status']}  "
            f"{o.describe_price(item['price'])}  period end {_date(item['current_period_end'])}"
            f"{ending}"
        )


@emulator_cli.command("renew")
@click.argument("sub_id")
@click.option("--fail", is_flag=True, help="The renewal payment (or the retry) fails.")
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="With --fail: how many further retries fail too (same PaymentIntent).",
)
@click.option(
    "--then",
    "final_status",
    type=click.Choice(END_STATES),
    default="unpaid",
    show_default=True,
    help="The account's setting once the last retry has failed.",
)
def renew_command(sub_id: str, fail: bool, retries: int, final_status: Any) -> None:
    """Renew a subscription (paid, or failed with --fail; a past_due one is retried).

    The emulator's clock moves as Stripe's does: the invoice is charged an hour after the new
    period opens, and each retry when the invoice's next_payment_attempt says (3 days on).
    """

    def action(emu: Emulator) -> str:
        sub = emu.renew(sub_id, fail=fail, retries=retries, final_status=final_status)
        end = _date(sub["items"]["data"][0]["current_period_end"])
        return (
            f"Renewed {sub_id}: status {sub['status']}, period ends {end}; "
            f"the emulator's clock reads {_date(emu.now())}."
        )

    _run(action)


@emulator_cli.command("advance")
@click.argument("sub_id")
def advance_command(sub_id: str) -> None:
    """Move a subscription past its period end (ends it if it cancels at period end)."""
    _run(lambda emu: f"Advanced {sub_id}: status {emu.advance_past_period_end(sub_id)['status']}.")


@emulator_cli.command("cancel")
@click.argument("sub_id")
@click.option("--now", is_flag=True, help="Cancel immediately instead of at period end.")
def cancel_command(sub_id: str, now: bool) -> None:
    """Cancel a subscription at period end (or now with --now)."""

    def action(emu: Emulator) -> str:
        sub = emu.cancel(sub_id, at_period_end=not now)
        when = "now" if now else "at period end"
        return f"Canceled {sub_id} {when}: status {sub['status']}."

    _run(action)


@emulator_cli.command("resume")
@click.argument("sub_id")
def resume_command(sub_id: str) -> None:
    """Undo a cancellation at period end."""
    _run(lambda emu: f"Resumed {sub_id}: status {emu.resume(sub_id)['status']}.")


@emulator_cli.command("refund")
@click.argument("charge_id")
@click.option("--amount", type=click.IntRange(min=1), help="Minor units; default: all.")
def refund_command(charge_id: str, amount: int | None) -> None:
    """Refund a charge, fully or partly."""

    def action(emu: Emulator) -> str:
        ref = emu.refund(charge_id, amount)
        return f"Refunded {ref['amount']} {ref['currency']} of {charge_id} ({ref['id']})."

    _run(action)


@emulator_cli.command("refund-fail")
@click.argument("refund_id")
@click.option("--reason", type=click.Choice(FAILURE_REASONS), default="expired_or_canceled_card")
def refund_fail_command(refund_id: str, reason: str) -> None:
    """Make a refund fail (the charge gets the money back)."""
    _run(lambda emu: f"Refund {refund_id}: {emu.fail_refund(refund_id, reason)['status']}.")


@emulator_cli.command("refund-cancel")
@click.argument("refund_id")
def refund_cancel_command(refund_id: str) -> None:
    """Cancel a refund (within 30 minutes of creating it)."""
    _run(lambda emu: f"Refund {refund_id}: {emu.cancel_refund(refund_id)['status']}.")


@emulator_cli.command("dispute")
@click.argument("charge_id")
@click.option("--close", "close_as", type=click.Choice(["won", "lost"]), default=None)
@click.option("--inquiry", is_flag=True, help="Open an inquiry rather than a chargeback.")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Move it to this.")
def dispute_command(charge_id: str, close_as: Any, inquiry: bool, status: str | None) -> None:
    """Open a dispute on a charge, or move its open one (--status, --close won|lost)."""

    def action(emu: Emulator) -> str:
        dp = emu.dispute(charge_id, close_as, inquiry=inquiry, status=status)
        return f"Dispute {dp['id']} on {charge_id}: {dp['status']}."

    _run(action)


@emulator_cli.command("expire")
@click.argument("session_id")
def expire_command(session_id: str) -> None:
    """Expire an open Checkout Session now."""
    _run(lambda emu: f"Checkout Session {emu.expire_checkout(session_id)['id']}: expired.")


@emulator_cli.command("advance-clock")
@click.argument("duration")
def advance_clock_command(duration: str) -> None:
    """Move the emulator's clock forward, e.g. 90m, 25h, 2d; due sessions and refunds settle."""

    def action(emu: Emulator) -> str:
        done = emu.advance_clock(_seconds(duration))
        return (
            f"Clock now {_date(emu.now())}: {len(done['expired'])} session(s) expired, "
            f"{len(done['settled'])} refund(s) settled."
        )

    _run(action)


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = duration.strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    if not number.isdigit():
        raise click.BadParameter("use a whole number with s, m, h or d, e.g. 25h")
    return int(number) * units[unit]


@emulator_cli.command("resend")
@click.argument("event_id")
def resend_command(event_id: str) -> None:
    """Deliver an event again."""
    _run(lambda emu: f"Queued {emu.resend(event_id)['type']} {event_id} for delivery.")


@emulator_cli.command("drop-deliveries")
@click.argument("state", type=click.Choice(["on", "off"]))
def drop_command(state: str) -> None:
    """Record new events without delivering them (on), or deliver again (off)."""

    def action(emu: Emulator) -> str:
        emu.set_drop_deliveries(state == "on")
        return f"Dropping deliveries: {state}."

    _run(action)


@emulator_cli.command("deliver")
def deliver_command() -> None:
    """Deliver pending webhook events now."""
    _run(lambda emu: "Delivering pending events.")


@emulator_cli.command("events")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def events_command(limit: int) -> None:
    """Show the latest events and their delivery status."""
    emu = get_emulator(current_app)
    status = {row["event_id"]: row for row in emu.deliveries()}
    for event in emu.events()[-limit:]:
        row = status.get(event["id"])
        state = f"{row['status']} ({row['attempts']} attempts)" if row else "-"
        click.echo(f"{_date(event['created'])}  {event['id']}  {event['type']}  {state}")
