"""The app under the real server: gunicorn with deploy/gunicorn.conf.py, for tests where it matters.

The test client keeps an app context alive that gunicorn does not (a streamed body is read
after the view's context is gone), and only a real worker process has a resident set to
measure. Helpers here start gunicorn, log a requests.Session in through the real form and
read a process's memory from /proc.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "deploy" / "gunicorn.conf.py"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Gunicorn:
    """A running gunicorn master: its URL, its process and the log it writes."""

    url: str
    process: subprocess.Popen
    log: Path

    def worker_pids(self) -> list[int]:
        """The master's worker processes (its children)."""
        return children(self.process.pid)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it does not end in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def children(pid: int) -> list[int]:
    """The child process ids of `pid` (every thread's list, from /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return sorted(found)


def start_gunicorn(
    env: dict[str, str], log: Path, workers: int = 2, port: int | None = None
) -> Gunicorn:
    """Serve wsgi:app with deploy/gunicorn.conf.py on a (free) port; wait until it answers."""
    port = port or free_port()
    env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(CONF), "wsgi:app"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Gunicorn(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_ready(server, workers)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: Gunicorn, workers: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited {server.process.returncode}:\n{server.log.read_text()[-3000:]}"
            )
        try:
            # The master listens before its workers have booted: the first answer can wait.
            requests.get(server.url + "/healthz", timeout=10)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        if len(server.worker_pids()) == workers:
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start:\n{server.log.read_text()[-3000:]}")


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 2) -> Iterator[Gunicorn]:
    """start_gunicorn as a context: stopped at the end whatever happens."""
    server = start_gunicorn(env, log, workers)
    try:
        yield server
    finally:
        server.stop()


def logged_in(base_url: str, email: str, password: str) -> requests.Session:
    """A requests.Session logged in through the real /login form (CSRF token and all)."""
    session = requests.Session()
    form = session.get(base_url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    data = {"email": email, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    answer = session.post(base_url + "/login", data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:2000]
    return session


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak since start or the last reset), in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def reset_peak(pid: int) -> bool:
    """Start VmHWM again from the current resident set (Linux >= 4.0); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def production_env(**settings: str) -> dict[str, str]:
    """The environment of a production process: the caller's, minus the test run's hints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TEST_"))}
    env.update(
        APP_ENV="production",
        SECRET_KEY=os.urandom(32).hex(),
        STRIPE_SECRET_KEY="",
        STRIPE_EMULATOR="1",
        MAIL_SERVER="",
        REDIS_URL="",
    )
    env.update(settings)
    return env
