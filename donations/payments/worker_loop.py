"""One queue worker's loop: a batch per transaction, and what it does when the database fails.

The worker must outlive the database: a restart, a failover, a pooler or an idle reaper that
kills its connection (issue 18). Whatever fails, the batch's transaction is rolled back, so its
events are put back as they were (their claim ends with the transaction) and no attempt is
counted: an infrastructure error is never an event's failed attempt (payments.ledger). Then:

- a lost race (deadlock, serialization failure): the batch again at once, after a short jitter;
- an outage: the pool is thrown away and the worker reconnects with capped exponential backoff
  and jitter, for as long as it takes;
- ISOLATE_AFTER failures in a row while applying the same batch: its events go one at a time,
  so one poison event cannot hold up the rest; an event that alone fails GIVE_UP_AFTER times
  is stored as failed with the error, and retried like any failed event (payments.queue).

Between batches it sends the mail outbox (core.mail_sender): after a batch that applied events
(their mails), else about every second (retries). A database error there is rolled back and
waits for the next turn; the mails stay in the outbox.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import text, update

from donations.core import dberrors, mail_sender
from donations.extensions import db
from donations.models import StripeEvent, utcnow
from donations.payments.heartbeat import Heartbeat
from donations.payments.ledger import EventOutcome

log = logging.getLogger("donations.payments.queue")

ISOLATE_AFTER = 3  # failures in a row of one batch before its events go one at a time
GIVE_UP_AFTER = 5  # failures in a row of one event alone before it is stored as failed
MAIL_EVERY = 1.0  # seconds between looks at the mail outbox while no event comes


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0] if text_ else ''}"


class WorkerLoop:
    """A worker's state between batches: its heartbeat and the trouble it is in."""

    def __init__(
        self,
        *,
        claim: Callable[[int], list[StripeEvent]],
        apply: Callable[[list[StripeEvent]], list[EventOutcome]],
        batch: int,
    ) -> None:
        self.claim, self.apply, self.batch = claim, apply, batch
        self.heart = Heartbeat()
        self.done = 0
        self.troubles = 0  # failures in a row while applying (the batch in hand)
        self.outages = 0  # failures in a row, for the backoff
        self.isolating = 0  # events still to take one at a time
        self.held: list[int] = []  # the events claimed in this transaction
        self.mailed_at = float("-inf")  # when the outbox was last looked at (monotonic)

    def step(self) -> list[EventOutcome] | None:
        """Beat, claim a batch, apply it and commit; None when it was put back."""
        self.held = []
        try:
            self.heart.beat()
            if db.session.get_bind().dialect.name == "postgresql":
                # Safe without waiting for the disk: the event itself was stored durably when
                # it arrived, and its effects and `processed` commit together, so a crash
                # that loses this commit leaves it waiting, to be applied again, once.
                db.session.execute(text("SET LOCAL synchronous_commit = off"))
            rows = self.claim(1 if self.isolating else self.batch)
            self.held = [row.id for row in rows]
            outcomes = self.apply(rows)
            db.session.commit()
        except Exception as exc:  # (nothing may end the worker but a signal)
            self._recover(exc)
            return None
        self.send_mail(force=bool(outcomes))
        self.troubles = self.outages = 0
        self.isolating = max(0, self.isolating - len(outcomes))
        self.done += len(outcomes)
        return outcomes

    def send_mail(self, *, force: bool = False) -> None:
        """Send the outbox's due mails (the batch's own, retries): after a batch that did
        something, else at most every MAIL_EVERY seconds. A failure waits for the next turn."""
        now = time.monotonic()
        if not force and now - self.mailed_at < MAIL_EVERY:
            return
        self.mailed_at = now
        try:
            mail_sender.send_due()
        except Exception as exc:  # (the database blinked: the rows wait, claimed or not)
            log.warning("webhook worker: mail not sent now (%s)", _first_line(exc))
            self._rollback(dispose=dberrors.classify(exc) != dberrors.RETRY)

    def rest(self, seconds: float) -> None:
        """Wait for arrivals (the next step beats if a beat is due)."""
        time.sleep(seconds)

    def stopped(self) -> None:
        """Say goodbye: this worker's heartbeat row goes (a stale one would look alive)."""
        try:
            self.heart.forget()
            db.session.commit()
        except Exception:  # (the database may be gone: the row then ages out)
            self._rollback(dispose=False)

    def _recover(self, exc: Exception) -> None:
        kind = dberrors.classify(exc)
        self.heart.missed()
        self._rollback(dispose=kind != dberrors.RETRY)
        if self.held:
            self._trouble(exc)
        if kind == dberrors.RETRY:
            log.warning("webhook worker: %s; the batch again at once", _first_line(exc))
            dberrors.jitter_sleep(self.troubles or 1)
            return
        self.outages += 1
        wait = dberrors.backoff(self.outages)
        if kind == dberrors.OUTAGE:
            log.warning(
                "webhook worker: database unavailable (%s); %d events put back, "
                "reconnecting in %.1f s",
                _first_line(exc),
                len(self.held),
                wait,
            )
        else:
            log.exception("webhook worker: batch of %d events rolled back", len(self.held))
        time.sleep(wait)

    def _trouble(self, exc: Exception) -> None:
        """Count a failure of the events in hand; isolate them, or set a lone one aside."""
        self.troubles += 1
        if self.isolating and len(self.held) == 1:
            if self.troubles >= GIVE_UP_AFTER:
                self._set_aside(self.held[0], exc)
                self.troubles = 0
                self.isolating = max(0, self.isolating - 1)
        elif self.troubles >= ISOLATE_AFTER:
            log.warning(
                "webhook worker: a batch of %d events failed %d times in a row; "
                "applying them one at a time",
                len(self.held),
                self.troubles,
            )
            self.isolating, self.troubles = len(self.held), 0

    def _set_aside(self, event_id: int, exc: Exception) -> None:
        """Store an event that alone keeps failing as failed, so the queue goes on."""
        error = f"set aside after {GIVE_UP_AFTER} failures alone: {_first_line(exc)}"
        try:
            db.session.execute(
                update(StripeEvent)
                .where(StripeEvent.id == event_id, StripeEvent.status.in_(("received", "failed")))
                .values(
                    status="failed",
                    attempts=StripeEvent.attempts + 1,
                    error=error.replace("\x00", "\\x00"),
                    processed_at=utcnow(),
                )
            )
            db.session.commit()
            log.error("webhook worker: event row %d %s", event_id, error)
        except Exception:  # (the database is away after all: try it again later)
            self._rollback(dispose=True)

    def _rollback(self, *, dispose: bool) -> None:
        try:
            db.session.rollback()
        except Exception:  # (a dead connection may fail even to roll back)
            log.debug("rollback failed", exc_info=True)
        if dispose:
            # Connections of the pool may all be dead (a restart): open new ones.
            db.session.close()
            db.engine.dispose()
