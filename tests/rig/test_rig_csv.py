"""The staff CSV of 25,000 supporters through gunicorn on PostgreSQL, in flat memory."""

from __future__ import annotations

import os
import threading
import time

import psycopg
import pytest

from tests.appserver import logged_in, memory_kib, reset_peak
from tests.rig.conftest import Rig

pytestmark = pytest.mark.rig

SUPPORTERS = 25_000
STAFF_EMAIL, STAFF_PASSWORD = "desk@example.org", "rig staff passphrase 2026"
GROWTH_LIMIT_KIB = 50 * 1024


def _bulk_supporters(rig: Rig, n: int) -> None:
    """n Stripe-only supporters in one COPY (a second, where the app would take minutes)."""
    with psycopg.connect(rig.conninfo) as conn, conn.cursor() as cur:
        columns = "name, billing_email, stripe_customer_id, is_staff, created_at, token_secret"
        with cur.copy(f"COPY users ({columns}) FROM STDIN") as copy:
            for i in range(n):
                name = f"=HYPERLINK({i})" if i % 1000 == 0 else f"Supporter Number {i}"
                copy.write_row(
                    (
                        name,
                        f"supporter{i}@example.net",
                        f"cus_csv{i:06d}",
                        False,
                        "2026-11-01Z",
                        os.urandom(16).hex(),  # each account's own token secret
                    )
                )


class _Sampler(threading.Thread):
    """Reads each process's VmRSS every 10 ms and keeps the highest."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.peak = dict.fromkeys(pids, 0)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.01):
            for pid in self.peak:
                self.peak[pid] = max(self.peak[pid], memory_kib(pid)["VmRSS"])


def test_members_csv_of_25000_supporters_streams_through_gunicorn_in_flat_memory(rig: Rig):
    _bulk_supporters(rig, SUPPORTERS - 1)
    rig.flask("create-staff", STAFF_EMAIL, "--password", STAFF_PASSWORD)
    staff = logged_in(rig.url, STAFF_EMAIL, STAFF_PASSWORD)
    for _ in range(4):  # every worker has run the export's code once: "idle" is warm
        warm = staff.get(rig.url + "/staff/members.csv?q=nobody-by-this-name", timeout=30)
        assert warm.status_code == 200 and warm.text.count("\n") == 1
    pids = rig.server.worker_pids()
    idle = {pid: memory_kib(pid)["VmRSS"] for pid in pids}
    peaks_reset = all(reset_peak(pid) for pid in pids)
    sampler = _Sampler(pids)
    sampler.start()

    started = time.monotonic()
    answer = staff.get(rig.url + "/staff/members.csv", timeout=120)
    seconds = time.monotonic() - started
    sampler.stop.set()
    sampler.join()

    peak = {
        pid: max(sampler.peak[pid], memory_kib(pid)["VmHWM"] if peaks_reset else 0) for pid in pids
    }
    growth = {pid: peak[pid] - idle[pid] for pid in pids}
    serving = max(growth, key=growth.get)  # the worker that served it grew the most
    lines = answer.text.splitlines()
    print(
        f"\nrig csv: {len(lines)} lines in {seconds:.2f} s; serving worker idle "
        f"{idle[serving] / 1024:.1f} MiB, peak {peak[serving] / 1024:.1f} MiB "
        f"(+{growth[serving] / 1024:.1f} MiB)"
    )
    assert answer.status_code == 200, answer.text[:500]
    assert len(lines) == SUPPORTERS + 1
    assert lines[-1].startswith('"') and lines[-1].count('","') == 12
    assert sum("\"'=HYPERLINK(" in line for line in lines) == (SUPPORTERS - 1 + 999) // 1000
    assert growth[serving] <= GROWTH_LIMIT_KIB
    log = rig.server.log.read_text()
    assert "InvalidCursorName" not in log and "Traceback" not in log
