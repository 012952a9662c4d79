"""The mails that keep members (issue 21, point 4): a failed payment and a cancellation.

The emulator's clock produces the events (a declined renewal retried, a cancellation at the
period's end and its end, a cancellation now); each mail is an outbox row written with its
change, so it goes out once however the events arrive: chaotic delivery, Stripe's redelivery
of everything, and the worker's batches.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from donations.extensions import db as _db
from donations.facts.facts import EventFact
from donations.membership.notices import CANCEL_SUBJECT, ENDED_SUBJECT, PAYMENT_FAILED_SUBJECT
from donations.models import Membership, OutboxMail
from donations.payments.account import WEBHOOK_EVENTS
from donations.payments.ledger import record
from donations.payments.queue import work_batch
from stripe_emulator import Emulator
from tests.conftest import flush_outbox, mails
from tests.factories import CHAOS_SEEDS, chaos
from tests.payments.emulated import emulated_member
from tests.payments.records_snapshot import reset_records


def _history(emulator: Emulator) -> None:
    """A declined renewal retried twice, a cancellation at period end that then ends, a
    cancellation now, a renewal that fails once and is paid, and a member who renews."""
    failing, leaving, quitting, recovering, staying = (
        emulated_member(emulator, f"{who}@example.org")
        for who in ("failing", "leaving", "quitting", "recovering", "staying")
    )
    emulator.renew(failing, fail=True, retries=2, final_status="past_due")
    emulator.cancel(leaving, at_period_end=True)
    emulator.advance_past_period_end(leaving)
    emulator.cancel(quitting, at_period_end=False)
    emulator.renew(recovering, fail=True)
    emulator.renew(recovering)  # the retry pays
    emulator.renew(staying)


LEAVING = ("leaving@example.org", CANCEL_SUBJECT)
EXPECTED = [
    ("failing@example.org", PAYMENT_FAILED_SUBJECT),
    LEAVING,
    ("quitting@example.org", ENDED_SUBJECT),
]
# A failure paid by its retry: its mail goes out only when the events say past_due before
# paid (in order, yes; shuffled, maybe not), and never twice.
RECOVERING = ("recovering@example.org", PAYMENT_FAILED_SUBJECT)


def _keep_mails() -> list[tuple[str, str]]:
    """(recipient, subject) of every outbox row that is one of these mails (but RECOVERING's,
    which the caller asks _recovering about)."""
    _db.session.expire_all()
    rows = _db.session.execute(select(OutboxMail.recipient, OutboxMail.subject)).all()
    subjects = (PAYMENT_FAILED_SUBJECT, CANCEL_SUBJECT, ENDED_SUBJECT)
    found = [(to, subject.split(" (")[0]) for to, subject in rows if subject.startswith(subjects)]
    return sorted(found)


def _without_recovering(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    assert found.count(RECOVERING) <= 1
    return [mail for mail in found if mail != RECOVERING]


@pytest.mark.parametrize("seed", CHAOS_SEEDS, ids=lambda seed: f"chaos-{seed}")
def test_chaotic_and_repeated_events_send_each_keep_mail_once(make_app, seed, mail_log):
    app = make_app(**chaos(seed))
    with app.app_context():
        emulator: Emulator = app.extensions["stripe_emulator"]
        webhooks = app.test_client()

        def transport(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
            answer = webhooks.post("/stripe/webhook", data=body, headers=headers)
            answer.close()
            return answer.status_code

        emulator.deliverer.transport = transport
        _history(emulator)
        emulator.deliver_pending(timeout=30)
        first = _keep_mails()
        assert _without_recovering(first) == EXPECTED
        for event in emulator.events():
            if event["type"] in WEBHOOK_EVENTS:
                emulator.resend(event["id"])  # Stripe delivers everything once more
        emulator.deliver_pending(timeout=30)
        assert _keep_mails() == first
        flush_outbox()
        sent = [m for m in mails(mail_log) if "Subject: Your membership" in m]
        assert len(sent) == len(first)
        failed = next(m for m in sent if "failing@example.org" in m)
        assert "$8" in failed and "still counts until" in failed
        assert "/account" in failed and app.config["SITE_NAME"] in failed
        leaving = next(m for m in sent if "leaving@example.org" in m)
        assert re.search(r"ends on \d{1,2} [A-Z][a-z]+ \d{4};", leaving)
        assert "$8 each month" in leaving
        quitting = next(m for m in sent if "quitting@example.org" in m)
        assert re.search(r"has ended on \d{1,2} [A-Z][a-z]+ \d{4}\.", quitting)
        assert re.search(r"still counts until \d{1,2} [A-Z][a-z]+ \d{4} while", failed)


@pytest.fixture
def history(app, emulator: Emulator) -> list[dict[str, Any]]:
    """The payloads our endpoint receives for the history above, in Stripe's order."""
    payloads: list[dict[str, Any]] = []

    def capture(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        payloads.append(json.loads(body))
        return 200

    emulator.deliverer.transport = capture
    _history(emulator)
    emulator.deliver_pending()
    return payloads


def _work(events: list[dict[str, Any]], batch: int) -> None:
    for event in events:
        record(EventFact.from_payload(event, raw=json.dumps(event)))
    _db.session.commit()
    while work_batch(
        livemode=False, installation=current_app.config["INSTALLATION_TAG"], limit=batch
    ):
        _db.session.commit()


@pytest.mark.parametrize("batch", [3, 50])
@pytest.mark.parametrize("reverse", [False, True], ids=["in-order", "reversed"])
def test_the_workers_batches_send_each_keep_mail_once(app, db, history, batch, reverse):
    reset_records()
    # Reversed: every event backwards, so the Checkout sessions that give each supporter an
    # address come last, after the failures and ends they are to be told about.
    first = [e for e in history if e["type"].startswith(("checkout.", "customer.created"))]
    rest = [e for e in history if e not in first]
    events = (first + rest)[::-1] if reverse else first + rest
    _work(events + events[::3], batch)  # and some of them twice
    found = _keep_mails()
    if reverse:
        # The end came first: its mail is the one confirmation the period gets.
        leaving_ended = ("leaving@example.org", ENDED_SUBJECT)
        assert leaving_ended in found
        found = sorted(LEAVING if mail == leaving_ended else mail for mail in found)
    assert _without_recovering(found) == EXPECTED
    # In Stripe's order the retry's failure came before its payment: its mail went out.
    assert (RECOVERING in found) is not reverse


def test_a_supporter_without_an_address_gets_no_keep_mail(app, db, history):
    reset_records()
    for event in history:
        obj = event["data"]["object"]
        for field in ("customer_email", "email", "receipt_email"):
            if obj.get(field):
                obj[field] = None
        if obj.get("customer_details"):
            obj["customer_details"]["email"] = None
        record(EventFact.from_payload(event, raw=json.dumps(event)))
    _work([], 50)
    statuses = _db.session.scalars(select(Membership.status)).all()
    assert sorted(statuses) == ["active", "active", "canceled", "canceled", "past_due"]
    assert _keep_mails() == []
