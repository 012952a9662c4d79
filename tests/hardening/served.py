"""The app under real gunicorn with deploy/gunicorn.conf.py, for tests that need the server."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    """A running gunicorn: where it listens and where its logs go."""

    host: str
    port: int
    access_log: Path
    error_log: Path

    def raw(self, request: bytes, timeout: float = 10) -> bytes:
        """Send raw bytes on a new connection; the whole answer (until the server closes)."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            sock.sendall(request)
            chunks = []
            with contextlib.suppress(TimeoutError, ConnectionResetError):
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        return b"".join(chunks)

    def access_lines(self) -> list[str]:
        """The access log so far (gunicorn writes each line as the request ends)."""
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn_serving(database_url: str, tmp: Path, **env: str) -> Iterator[Served]:
    """gunicorn -c deploy/gunicorn.conf.py wsgi:app on a free port, one worker, stopped after."""
    port = _free_port()
    served = Served("127.0.0.1", port, tmp / "access.log", tmp / "error.log")
    settings = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "GUNICORN_", "WEB_", "FORWARDED_", "TRUSTED_"))
    }
    settings.update(
        APP_ENV="testing",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        STRIPE_EMULATOR_DB=str(tmp / "emulator.sqlite3"),
        INSTANCE_PATH=str(tmp / "instance"),
        SITE_URL=f"http://127.0.0.1:{port}",
        REDIS_URL="",
        MAIL_SERVER="",
        LOG_FORMAT="text",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_ACCESS_LOG=str(served.access_log),
        WEB_CONCURRENCY="1",
        **env,
    )
    with served.error_log.open("wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=settings,
            stdout=errors,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise AssertionError(served.error_log.read_text())
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.2),
                ):
                    break
                time.sleep(0.1)
            yield served
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
