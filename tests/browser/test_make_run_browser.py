"""`make run PORT=…` takes a payment end to end: Checkout, the webhook and the pages all follow
the port it serves on (SITE_URL defaults to HOST and PORT).

Runs the real Makefile target from this checkout with the venv running the tests, a fresh
database and emulator state in a temporary folder, and no demo members; a reader pays a gift
on the emulator's Checkout page in Chromium and the thanks page confirms it (the webhook went
to the port we chose, not to :5000).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_pay_first_browser import _pay

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"make run exited {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"make run did not serve {url}:\n{log.read_text()}")


def test_make_run_on_another_port_takes_a_payment_end_to_end(page, tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "SECRET_KEY": "make-run-test-secret-key-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "STRIPE_EMULATOR_DB": str(tmp_path / "emulator.sqlite3"),
        "STRIPE_SECRET_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        "SITE_URL": "",  # unset: make run derives it from HOST and PORT
        "REDIS_URL": "",
    }
    env.pop("SITE_URL")
    log = tmp_path / "make-run.log"
    venv = Path(sys.prefix)
    # -o: use the venv running these tests as it is (no install), and no .env file needed.
    command = ["make", "-o", "install", "-o", ".env", "run", f"PORT={port}", "DEMO_MEMBERS=0"]
    command.append(f"VENV={venv}")
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_up(base + "/", proc, log)
        embed = urllib.request.urlopen(base + "/embed/progress", timeout=5).read().decode()
        assert ":5000" not in embed

        page.goto(base + "/support?interval=once")
        page.get_by_role("button", name="Give $25 once").click()
        page.wait_for_url(re.compile(re.escape(base) + r"/_emulator/checkout/cs_test_"))
        _pay(page, email="port.reader@example.org")
        page.wait_for_url(re.compile(re.escape(base) + r"/support/thanks\?session_id="))
        # Only the webhook (sent to SITE_URL's port) turns "confirming" into this.
        expect(page.get_by_text("Your gift of $25 is confirmed")).to_be_visible(timeout=20_000)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    output = log.read_text()
    assert f"{base}/stripe/webhook" in output or "nothing to change" in output, output
