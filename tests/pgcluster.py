"""A throwaway PostgreSQL: a cluster made with initdb in a temporary folder, on a free port.

Used by the rig (its own server, because a fault test stops it) and by the PostgreSQL-only
tests when no TEST_DATABASE_URL names a server (tests/pgserver.py). Indico's test fixtures
start PostgreSQL the same way. As root (a CI container) it runs as the `postgres` OS user,
since PostgreSQL refuses to run as root; otherwise as the current user. The data lives in RAM
when /dev/shm is there: the tests measure and exercise the app, not the disk.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.appserver import free_port

RAM = Path("/dev/shm")  # noqa: S108  (a private mkdtemp folder is made inside)


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder with initdb and pg_ctl, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for folder in reversed(found):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    for name in ("initdb", "pg_ctl"):
        if shutil.which(name) is None:
            return None
    return Path(shutil.which("initdb")).parent  # type: ignore[arg-type]


def _os_user() -> str | None:
    """Who runs PostgreSQL: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return "postgres"


def reap_stale(prefix: str) -> None:
    """Stop and remove clusters left by runs that were killed before their cleanup."""
    for root in (RAM, Path(tempfile.gettempdir())):
        for stale in root.glob(f"{prefix}*"):
            pid = stale.name.removeprefix(prefix).split("-")[0]
            if not pid.isdigit() or Path(f"/proc/{pid}").exists():
                continue
            postmaster = stale / "data" / "postmaster.pid"
            with contextlib.suppress(OSError, ValueError, ProcessLookupError):
                os.kill(int(postmaster.read_text().split()[0]), signal.SIGQUIT)
                time.sleep(0.5)
            shutil.rmtree(stale, ignore_errors=True)


class Cluster:
    """One PostgreSQL cluster: initdb, start, stop, and a database for the app."""

    def __init__(self, bin_dir: Path, prefix: str) -> None:
        """Make the cluster (not started) in a folder named `<prefix><our pid>-…`."""
        self.bin = bin_dir
        self.user = _os_user()
        parent = RAM if RAM.is_dir() and os.access(RAM, os.W_OK) else None
        self.root = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
        self.data = self.root / "data"
        self.log = self.root / "postgresql.log"
        self.port = free_port()
        if self.user:
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # fmt: skip
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": self.port,
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": 60,
            "shared_buffers": "'64MB'",
            # A throwaway cluster: nothing needs to survive a crash of the machine.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def _run(self, program: str, *args: object, check: bool = True) -> None:
        command = [str(self.bin / program), *map(str, args)]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=check, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL of one of its databases."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """A libpq connection string of one of its databases."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (fast: every connection is ended, as a restart or failover does)."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop", check=False)

    def is_up(self) -> bool:
        """Does it accept a connection right now?"""
        try:
            with psycopg.connect(self.conninfo(), connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str) -> None:
        """A new, empty database."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        """Stop at once and delete every file."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
