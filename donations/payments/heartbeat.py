"""Each queue worker's heartbeat: a row it refreshes while it runs (read by payments.backlog).

/healthz says `down` when events wait and no worker beat within WEBHOOK_WORKER_LIVENESS_SECONDS:
the endpoint keeps answering 200 while nothing applies the events, so Stripe never retries and
only the heartbeat tells that the queue has stopped.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import timedelta

from sqlalchemy import delete, update

from donations.extensions import db
from donations.membership.locking import insert_if_absent
from donations.models import WebhookWorker, utcnow

BEAT_EVERY = 1.0  # seconds between beats, well inside the liveness window
FORGET_AFTER = timedelta(days=1)  # rows of workers that died without saying goodbye


class Heartbeat:
    """One worker's identity and its beats; beat() writes in the caller's transaction."""

    def __init__(self) -> None:
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        # A restarted process, or a pid the system reused, is a new worker.
        self.id = f"{self.host[:150]}:{self.pid}:{uuid.uuid4().hex[:12]}"
        self.started_at = utcnow()
        self._last = float("-inf")

    def beat(self, *, force: bool = False) -> bool:
        """Say this worker is alive (at most every BEAT_EVERY seconds); True when written."""
        if not force and time.monotonic() - self._last < BEAT_EVERY:
            return False
        now = utcnow()
        beaten = db.session.execute(
            update(WebhookWorker).where(WebhookWorker.id == self.id).values(beat_at=now)
        ).rowcount
        if not beaten:  # the first beat (or the row was forgotten while the database was away)
            insert_if_absent(
                WebhookWorker,
                "id",
                {
                    "id": self.id,
                    "host": self.host,
                    "pid": self.pid,
                    "started_at": self.started_at,
                    "beat_at": now,
                },
            )
        self._last = time.monotonic()
        return True

    def missed(self) -> None:
        """The beat was rolled back with its transaction: write it with the next one."""
        self._last = float("-inf")

    def forget(self) -> None:
        """Remove this worker's row (a clean stop), and rows of workers long dead."""
        db.session.execute(
            delete(WebhookWorker).where(
                (WebhookWorker.id == self.id) | (WebhookWorker.beat_at < utcnow() - FORGET_AFTER)
            )
        )
