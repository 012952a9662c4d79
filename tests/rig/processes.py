"""The processes a newsroom runs: gunicorn and the queue workers, with a supervisor over them.

The supervisor does what systemd (deploy/) does for the workers: a worker that ends is
started again. It also writes down every end, so a test can tell a worker that died by
itself from one the rig killed on purpose.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.appserver import ROOT

WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "work"]
RESTART_AFTER = 0.5  # seconds, as a supervisor's restart delay


@dataclass
class Exit:
    """One end of a worker process: which slot, its code, and whether the rig killed it."""

    slot: int
    pid: int
    code: int
    killed_by_rig: bool
    at: float


@dataclass
class Workers:
    """`flask webhooks work` processes, each in a numbered slot, kept running by a thread."""

    env: dict[str, str]
    logs: Path
    count: int = 2
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)
    exits: list[Exit] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def app_name(self, slot: int) -> str:
        """The application_name its database connections carry (pg_stat_activity)."""
        return f"rig-worker-{slot}"

    def _spawn(self, slot: int) -> None:
        env = {**self.env, "PGAPPNAME": self.app_name(slot)}
        with (self.logs / f"worker-{slot}.log").open("ab") as log:
            self.processes[slot] = subprocess.Popen(
                WORKER, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def start(self) -> None:
        """Start every slot and the supervising thread."""
        for slot in range(self.count):
            self._spawn(slot)
        self._thread = threading.Thread(target=self._supervise, daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                for slot, process in list(self.processes.items()):
                    code = process.poll()
                    if code is None:
                        continue
                    self.exits.append(
                        Exit(slot, process.pid, code, process.pid in self.killed, time.monotonic())
                    )
                    time.sleep(RESTART_AFTER)
                    self._spawn(slot)

    def pid(self, slot: int) -> int:
        """The process id now in a slot."""
        return self.processes[slot].pid

    def kill(self, slot: int) -> int:
        """SIGKILL the worker in a slot (the supervisor starts another); return its pid."""
        with self._lock:
            process = self.processes[slot]
            self.killed.add(process.pid)
            process.send_signal(signal.SIGKILL)
            return process.pid

    def exits_on_their_own(self) -> list[Exit]:
        """Every end the rig did not cause."""
        with self._lock:
            return [e for e in self.exits if not e.killed_by_rig]

    def forget_exits(self) -> None:
        """Start a new test's record of exits."""
        with self._lock:
            self.exits.clear()

    def log_tail(self, lines: int = 30) -> str:
        """The last warnings and errors of each worker's log, for a failure message."""
        tails = []
        for slot in range(self.count):
            text = (self.logs / f"worker-{slot}.log").read_text().splitlines()
            # Mail goes to the log here (no MAIL_SERVER): not what a failure is about.
            kept = [line for line in text if '"INFO"' not in line and "donations.mail" not in line]
            tails.append(f"--- worker {slot} ---\n" + "\n".join(kept[-lines:]))
        return "\n".join(tails)

    def stop(self) -> None:
        """Stop supervising, then SIGTERM each worker (their graceful stop), SIGKILL if stuck."""
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait(5)
