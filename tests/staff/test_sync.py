"""`flask stripe sync` repairs what lost webhooks left out, through the webhook functions."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from donations.extensions import db
from donations.membership.progress import get_progress, recount_members
from donations.models import (
    CheckoutAttempt,
    Donation,
    MemberChange,
    Membership,
    PaymentAdjustment,
    SyncRun,
    utcnow,
)
from donations.payments.account import WEBHOOK_EVENTS
from donations.payments.cli import SyncProgress
from tests.factories import login, make_article, make_user, pay_membership, start_checkout


def count(model) -> int:
    """Rows of a model."""
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot() -> tuple:
    """Everything sync may touch, to compare before and after."""
    db.session.expire_all()
    return (
        [
            (m.stripe_subscription_id, m.status, m.amount, m.fact_at)
            for m in db.session.scalars(select(Membership))
        ],
        [(d.kind, d.amount, d.stripe_invoice_id) for d in db.session.scalars(select(Donation))],
        [
            (a.stripe_payment_intent_id, a.amount_refunded)
            for a in db.session.scalars(select(PaymentAdjustment))
        ],
        count(MemberChange),
        get_progress().members,
    )


def test_sync_repairs_a_membership_whose_webhooks_were_lost(app, client, runner, db, emulator):
    user = make_user(email="lost.webhooks@example.org")
    login(client, user)
    emulator.set_drop_deliveries(True)
    make_article(slug="kalvesk")
    pay_membership(client, emulator, article="kalvesk")
    assert count(Membership) == 0 and get_progress().members == 0

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "memberships_created 1" in result.output
    assert "membership sub_" in result.output and "created (active)" in result.output
    db.session.expire_all()
    membership = db.session.scalar(select(Membership))
    assert (membership.user_id, membership.status, membership.interval) == (
        user.id,
        "active",
        "month",
    )
    assert membership.source_article == "kalvesk"
    assert get_progress().members == 1 == recount_members()
    assert count(MemberChange) == 1
    donation = db.session.scalar(select(Donation))
    assert (donation.kind, donation.user_id) == ("membership_first", user.id)
    assert db.session.scalar(select(CheckoutAttempt.status)) == "complete"

    before = snapshot()
    again = runner.invoke(args=["stripe", "sync"])
    assert again.exit_code == 0, again.output
    assert "changed: nothing." in again.output
    assert snapshot() == before

    # The dashboard tells staff when sync ran and what it found.
    runs = list(db.session.scalars(select(SyncRun).order_by(SyncRun.id)))
    # The membership, its first payment, the checkout, and the payment's fee.
    assert [(r.dry_run, r.changed) for r in runs] == [(False, 4), (False, 0)]
    counts = json.loads(runs[0].summary)["counts"]
    assert (counts["memberships_created"], counts["fees_recorded"]) == (1, 1)


def test_dry_run_reports_but_changes_nothing(app, client, runner, db, emulator):
    login(client, make_user(email="dry.run@example.org"))
    emulator.set_drop_deliveries(True)
    emulator.pay_checkout(start_checkout(client, interval="year", amount="60"), "4242424242424242")
    emulator.deliver_pending()
    before = snapshot()

    result = runner.invoke(args=["stripe", "sync", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would change:" in result.output and "memberships_created 1" in result.output
    assert "Dry run: nothing was written." in result.output
    assert snapshot() == before
    assert count(Membership) == 0 and get_progress().members == 0
    run = db.session.scalar(select(SyncRun))
    assert run.dry_run and run.changed >= 1 and run.finished_at is not None


def test_sync_records_a_lost_gift_and_a_lost_refund(app, client, runner, db, emulator):
    make_article(slug="school-profile")
    session_id = start_checkout(client, amount="25", article="school-profile")
    emulator.pay_checkout(session_id, "4242424242424242", email="giver@example.org")
    emulator.deliver_pending()
    charge = emulator.list_objects("charge")[0]
    emulator.set_drop_deliveries(True)
    emulator.refund(charge["id"], 1000)
    gift_session = start_checkout(client, amount="5", attempt="attempt-token-second-gift")
    emulator.pay_checkout(gift_session, "4242424242424242", email="other@example.org")
    emulator.deliver_pending()
    assert count(Donation) == 1

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "refunds_updated 1" in result.output
    db.session.expire_all()
    amounts = sorted((d.amount, d.amount_refunded) for d in db.session.scalars(select(Donation)))
    assert amounts == [(500, 0), (2500, 1000)]
    assert runner.invoke(args=["stripe", "sync"]).output.count("changed: nothing.") == 1


def test_dashboard_shows_the_last_sync(app, client, runner, db, emulator, staff_client):
    runner.invoke(args=["stripe", "sync", "--dry-run"])
    html = staff_client.get("/staff/").get_data(as_text=True)
    assert "Last dry run started" in html and "would change 0" in html


def test_sync_links_a_membership_payment_to_its_intent_and_applies_its_refund(
    app, client, runner, db, emulator
):
    login(client, make_user(email="member.refund@example.org"))
    emulator.set_drop_deliveries(True)
    emulator.pay_checkout(start_checkout(client, interval="month", amount="8"), "4242424242424242")
    charge = emulator.list_objects("charge")[0]
    emulator.refund(charge["id"], 300)
    emulator.set_drop_deliveries(False)
    # Everything arrives but the link from invoice to payment intent and the refund.
    lost = ("invoice_payment.paid", "charge.refunded", "charge.refund.updated")
    for event in emulator.events():
        kind = event["type"]
        if kind in WEBHOOK_EVENTS and kind not in lost and not kind.startswith("refund."):
            emulator.resend(event["id"])
    emulator.deliver_pending()
    donation = db.session.scalar(select(Donation))
    assert (donation.stripe_payment_intent_id, donation.amount_refunded) == (None, 0)

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    donation = db.session.scalar(select(Donation))
    assert donation.stripe_payment_intent_id == charge["payment_intent"]
    assert (donation.kind, donation.amount_refunded, donation.net_amount) == (
        "membership_first",
        300,
        500,
    )


def test_sync_gives_back_a_refund_that_failed_while_webhooks_were_lost(
    app, client, runner, db, emulator
):
    emulator.pay_checkout(
        start_checkout(client, amount="25"), "4242424242424242", email="g@example.org"
    )
    charge = emulator.list_objects("charge")[0]
    refund = emulator.refund(charge["id"], 1000)
    emulator.deliver_pending()
    assert db.session.scalar(select(Donation)).net_amount == 1500
    emulator.set_drop_deliveries(True)
    emulator.fail_refund(refund["id"])
    emulator.deliver_pending()

    result = runner.invoke(args=["stripe", "sync"])
    assert result.exit_code == 0, result.output
    assert "refunds_updated" in result.output
    db.session.expire_all()
    donation = db.session.scalar(select(Donation))
    assert (donation.amount_refunded, donation.net_amount) == (0, 2500)
    assert runner.invoke(args=["stripe", "sync"]).output.count("changed: nothing.") == 1


def test_sync_progress_is_a_line_per_count_when_not_on_a_terminal(client, runner, db, emulator):
    login(client, make_user(email="progress.lines@example.org"))
    emulator.pay_checkout(start_checkout(client, interval="month", amount="8"), "4242424242424242")
    emulator.deliver_pending()

    result = runner.invoke(args=["stripe", "sync", "--dry-run"])  # the runner is no terminal
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr
    lines = result.stderr.splitlines()
    assert {"customers: 1 read", "subscriptions: 1 read", "invoices: 1 read"} <= set(lines)
    assert all(re.fullmatch(r"[a-z_]+: \d+ read", line) for line in lines), lines


def _count(progress: SyncProgress) -> None:
    for seen in range(1, 73):
        progress("customers", seen)
    progress("invoices", 1)
    progress.finish()


def test_sync_progress_ends_each_kind_on_its_last_count(capsys):
    _count(SyncProgress(tty=False))
    assert capsys.readouterr().err == (
        "customers: 1 read\ncustomers: 50 read\ncustomers: 72 read\ninvoices: 1 read\n"
    )


def test_sync_progress_on_a_terminal_redraws_one_line_per_kind(capsys):
    _count(SyncProgress(tty=True))
    assert capsys.readouterr().err == (
        "\rcustomers: 1 read\rcustomers: 50 read\rcustomers: 72 read\n\rinvoices: 1 read\n"
    )


def test_sync_stamps_what_it_reads_with_stripes_clock(app, client, runner, db, emulator):
    login(client, make_user(email="dunned.member@example.org"))
    emulator.pay_checkout(start_checkout(client, interval="month", amount="8"), "4242424242424242")
    sub_id = emulator.list_objects("subscription")[0]["id"]
    # Dunning moves the emulator's clock days past ours; its events carry that time.
    emulator.renew(sub_id, fail=True, retries=2, final_status="unpaid")
    emulator.deliver_pending()
    assert db.session.scalar(select(Membership.status)) == "unpaid"
    assert db.session.scalar(select(Membership.fact_at)) > utcnow() + timedelta(days=5)
    emulator.set_drop_deliveries(True)
    emulator.cancel(sub_id, at_period_end=False)
    emulator.deliver_pending()

    result = runner.invoke(args=["stripe", "sync"])
    assert "memberships_updated 1" in result.output, result.output
    db.session.expire_all()
    assert db.session.scalar(select(Membership.status)) == "canceled"
