"""The outbox's sender: claim due mails, deliver them over SMTP, mark each sent or failed.

Who sends: the webhook worker between batches, `flask mail send` (once) and `flask mail work`
(a loop), and a request right after its commit for its own mails (a reset link should not wait
for the worker; the worker is the retry). A sender claims rows with a conditional UPDATE that
moves `next_attempt_at` a lease ahead, commits the claim, and only then talks to SMTP: two
senders never hold one row, on SQLite or PostgreSQL (where SKIP LOCKED also keeps them off each
other's candidates). A failure waits `backoff(attempts)`; a refusal for good is given up.

At the SMTP boundary delivery is at least once: a sender that dies between the server's
acceptance and its own "sent" write leaves the row to be sent again once the lease ends.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, Response, current_app
from sqlalchemy import select, update

from donations.core import dberrors
from donations.core.outbox import TEMPLATES_KEY
from donations.extensions import db
from donations.mail import Mailer, MailUnavailable, Message
from donations.models import OutboxMail, utcnow

log = logging.getLogger("donations.outbox")

LEASE = timedelta(minutes=5)  # far beyond one SMTP conversation (its timeout is 15 s)
BACKOFF_BASE = 30.0  # seconds before the first retry, doubled each time
BACKOFF_CAP = 3600.0  # then hourly, until it goes
BATCH = 20


@dataclass(frozen=True)
class SendReport:
    """What one pass of the sender did."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0

    def __add__(self, other: SendReport) -> SendReport:
        return SendReport(
            self.sent + other.sent, self.failed + other.failed, self.skipped + other.skipped
        )


def backoff(attempts: int) -> timedelta:
    """How long a mail that failed `attempts` times waits before the next try."""
    return timedelta(seconds=min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP))


def send_due(
    *, limit: int = BATCH, ids: Iterable[int] | None = None, fresh_only: bool = False
) -> SendReport:
    """Claim up to `limit` due mails, send them and mark each; commits (its own work).

    `ids` keeps to those rows; `fresh_only` to rows never tried (a request's own mails:
    retries are the worker's, so a slow SMTP server never holds a request's thread twice).
    """
    claimed = _claim(limit, None if ids is None else list(ids), fresh_only)
    db.session.commit()
    mailer = Mailer.from_config(current_app.config)
    report, unreachable = SendReport(), None
    for row_id in claimed:
        step, unreachable = _send_one(mailer, row_id, unreachable)
        report += step
    return report


def send_all_due(limit: int = BATCH, *, fresh_only: bool = False) -> SendReport:
    """send_due until nothing is due now (`flask mail send`; after a replay, the new ones)."""
    report = SendReport()
    while True:
        step = send_due(limit=limit, fresh_only=fresh_only)
        report += step
        if step.sent + step.failed + step.skipped < limit:
            return report


def _claim(limit: int, ids: list[int] | None, fresh_only: bool) -> list[int]:
    now = utcnow()
    due = select(OutboxMail.id).where(
        OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= now
    )
    if ids is not None:
        due = due.where(OutboxMail.id.in_(ids))
    if fresh_only:
        due = due.where(OutboxMail.attempts == 0)
    due = due.order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    candidates = list(db.session.scalars(due))
    if not candidates:
        return []
    # The guard that matters: only a row still due is taken. A second sender that read the
    # same candidates finds them a lease ahead (on PostgreSQL it waits for our commit, then
    # re-checks the condition on the new row) and takes none of them.
    taken = db.session.scalars(
        update(OutboxMail)
        .where(
            OutboxMail.id.in_(candidates),
            OutboxMail.sent_at.is_(None),
            OutboxMail.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE, attempts=OutboxMail.attempts + 1)
        .returning(OutboxMail.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(taken)


# The server could not be reached: the pass's other mails wait too, without each paying the
# connection's timeout (15 s when packets are dropped) and holding up the webhook worker.
UNREACHABLE = (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)


def _send_one(
    mailer: Mailer, row_id: int, unreachable: Exception | None
) -> tuple[SendReport, Exception | None]:
    row = db.session.get(OutboxMail, row_id, populate_existing=True)
    if row is None:
        return SendReport(), unreachable
    attempts, kind = row.attempts, row.dedup_key.partition(":")[0]
    try:
        message = _message(row)
        if message is None:
            _finish(row_id, sent_at=utcnow(), error="not sent: no longer applies")
            return SendReport(skipped=1), unreachable
        if unreachable is not None:
            raise unreachable
        mailer.deliver(message)
    except MailUnavailable:
        # Production without MAIL_SERVER: mail is off by choice. Dropped, as it always was,
        # with a warning that never holds the body (it may carry a reset link).
        logging.getLogger("donations.mail").warning(
            "MAIL_SERVER is not set; dropped mail %d (%s)", row_id, kind
        )
        _finish(row_id, sent_at=utcnow(), error="not sent: MAIL_SERVER is not set")
        return SendReport(skipped=1), unreachable
    except Exception as exc:  # (one mail's failure, whatever it is, never stops the rest)
        _failed(row_id, attempts, exc)
        return SendReport(failed=1), exc if isinstance(exc, UNREACHABLE) else unreachable
    _finish(row_id, sent_at=utcnow(), error="")
    log.info("outbox: sent mail %d (%s)", row_id, kind)
    return SendReport(sent=1), unreachable


def _message(row: OutboxMail) -> Message | None:
    if not row.template:
        return Message(
            to=row.recipient, subject=row.subject, body=row.text_body, html=row.html_body
        )
    render = current_app.extensions.get(TEMPLATES_KEY, {}).get(row.template)
    if render is None:
        raise LookupError(f"no mail template {row.template!r} registered")
    return render(dict(row.context))


def _failed(row_id: int, attempts: int, exc: Exception) -> None:
    db.session.rollback()  # whatever the renderer may have left half done
    error = f"{type(exc).__name__}: {str(exc).strip()[:500]}"
    if _refused_for_good(exc):
        log.error("outbox: mail %d refused for good, given up: %s", row_id, error)
        _finish(row_id, sent_at=None, error=f"given up: {error}")
        return
    wait = backoff(attempts)
    log.warning(
        "outbox: mail %d failed (%s); next try in %.0f s", row_id, error, wait.total_seconds()
    )
    db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == row_id, OutboxMail.sent_at.is_(None))
        .values(next_attempt_at=utcnow() + wait, last_error=error)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _refused_for_good(exc: Exception) -> bool:
    """A 5xx answer to the recipients or the data: no retry would change it (RFC 5321 §4.2.1)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def _finish(row_id: int, *, sent_at: datetime | None, error: str) -> None:
    db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == row_id)
        .values(sent_at=sent_at, next_attempt_at=None, last_error=error)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def deliver_after_response(response: Response, ids: Iterable[int | None]) -> Response:
    """Try the request's own mails once the response has gone; the worker retries them."""
    wanted = [i for i in ids if i is not None]
    if wanted:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: _send_in_context(app, wanted))
    return response


def send_fresh_after_response(response: Response) -> Response:
    """Try every mail never tried yet once the response has gone (the webhook endpoint)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    response.call_on_close(lambda: _send_in_context(app, None))
    return response


def _send_in_context(app: Flask, ids: list[int] | None) -> None:
    with app.app_context():
        try:
            send_due(ids=ids, fresh_only=True)
        except Exception:  # (the database blinked: the rows wait for the worker)
            db.session.rollback()
            log.warning("outbox: sending after the response failed; left to the worker")


def work(*, stop: Callable[[], bool], idle: float = 1.0) -> SendReport:
    """Send due mails until stop(); a database that goes away is waited for, never fatal."""
    report, outages = SendReport(), 0
    while not stop():
        try:
            step = send_due()
        except Exception as exc:  # (nothing may end the sender but a signal)
            kind = dberrors.classify(exc)
            outages += 1
            wait = dberrors.backoff(outages)
            log.warning("mail sender: %s; again in %.1f s", type(exc).__name__, wait)
            try:
                db.session.rollback()
            except Exception:  # (a dead connection may fail even to roll back)
                log.debug("rollback failed", exc_info=True)
            if kind != dberrors.RETRY:
                db.session.close()
                db.engine.dispose()  # the pool's connections may all be dead (a restart)
            time.sleep(wait)
            continue
        outages = 0
        report += step
        if step.sent + step.failed + step.skipped < BATCH:
            time.sleep(idle)
    return report
