"""Benchmark harness: seed a database, serve the app under gunicorn, measure it with wrk.

Every target is compared with a Flask hello world served by the same gunicorn settings in
the same run (measured first and last), because absolute numbers on a shared 2-core machine
mean little. See bench/README.md.

    .venv/bin/python bench/run.py [--db sqlite|postgres] [--duration 10] [--only article]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from importlib.metadata import version
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
LUA = BENCH / "lua"
# Run as a script, bench/ is already first on sys.path; this also covers other launchers.
sys.path.insert(0, str(BENCH))
import member  # noqa: E402
import webhooks  # noqa: E402
from front import measure_through_nginx, print_summary, queue_worker, write_summary  # noqa: E402
from seed import drop_database  # noqa: E402
from storm import add_arguments as storm_arguments  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_donations"
SERVER_START_TIMEOUT = 30.0
SERVER_STOP_TIMEOUT = 10.0
DRIFT_WARNING = 0.10


class CheckFailed(RuntimeError):
    """A target did not serve what it should; measuring it would be meaningless."""


@dataclass
class Context:
    """What a target's path, checks and setup may use: the seed report, env and URLs."""

    database_url: str
    env: dict[str, str]
    seed: dict[str, Any]
    base_url: str = ""
    members: int = 0


@dataclass(frozen=True)
class Target:
    """One measured request of the app; add new ones to TARGETS."""

    name: str  # used by --only and in the JSON
    label: str  # shown in the table
    # Formatted with the seed report, e.g. "/articles/{sample_slug}".
    path: str
    method: str = "GET"
    # A wrk Lua script in bench/lua/ for POST bodies, signed headers or rotating paths.
    script: str | None = None
    # Text a GET of the path must contain before it is measured (formatted like path).
    expect: str | None = None
    # Runs after seeding and before the app starts; may add rows or set ctx.env entries.
    setup: Callable[[Context], None] | None = None
    # Replaces the default GET+expect check, e.g. to POST one signed webhook and verify it.
    check: Callable[[Context, Target], None] | None = None


TARGETS: list[Target] = [
    Target("home", "home /", "/", expect="{newest_title}"),
    Target("article", "article", "/articles/{sample_slug}", expect="{sample_title}"),
    # The count is a maintained counter: this should not slow down as --members grows.
    Target("progress", "api/progress", "/api/progress", expect='"members":{members}'),
    Target("embed", "embed/progress", "/embed/progress", expect="{members_shown}"),
    Target("feed", "feed.xml", "/feed.xml", expect="{newest_title}"),
    # The article as a logged-in member reads it (a real session cookie): no cache serves it.
    Target(
        "member",
        "article (member)",
        "/articles/{sample_slug}",
        script="member.lua",
        check=member.check,
    ),
    # Every request a new signed customer.subscription.created: supporter, membership, count.
    Target(
        "webhook",
        "webhook ingest",
        "/stripe/webhook",
        method="POST",
        script="webhook.lua",
        setup=webhooks.setup,
        check=webhooks.check,
    ),
]


@dataclass
class WrkResult:
    """The numbers we read from one wrk run."""

    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """True when every response was a success and no socket failed."""
        return self.requests > 0 and not self.non_2xx_3xx and not any(self.socket_errors.values())


@dataclass
class Row:
    """One line of the results table."""

    name: str
    label: str
    url: str
    result: WrkResult
    ratio: float | None = None


# ---------------------------------------------------------------- wrk


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _latency_ms(output: str, percent: int) -> float:
    match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no {percent}% latency; was --latency passed?\n{output}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Read req/s, p50, p99 and the error counts from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if not rps or not total:
        raise RuntimeError(f"could not read wrk output:\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    kinds = ("connect", "read", "write", "timeout")
    return WrkResult(
        requests_per_sec=float(rps.group(1)),
        p50_ms=_latency_ms(output, 50),
        p99_ms=_latency_ms(output, 99),
        requests=int(total.group(1)),
        non_2xx_3xx=int(bad.group(1)) if bad else 0,
        socket_errors=dict(zip(kinds, map(int, errors.groups()), strict=True)) if errors else {},
    )


def run_wrk(
    url: str, args: argparse.Namespace, duration: int, script: str | None, env: dict[str, str]
) -> WrkResult:
    """Run wrk once against url, bounded by duration, and parse what it prints."""
    cmd = ["wrk", "--latency", "-t", str(args.threads), "-c", str(args.connections)]
    cmd += ["-d", f"{duration}s"]
    if script:
        cmd += ["-s", str(LUA / script)]
    env = {**env, "BENCH_WRK_THREADS": str(args.threads)}  # for Lua scripts that split work
    out = subprocess.run(
        [*cmd, url], env=env, capture_output=True, text=True, check=True, timeout=duration + 30
    )
    return parse_wrk(out.stdout)


# ---------------------------------------------------------------- servers


def free_port() -> int:
    """Ask the kernel for a free loopback port (gunicorn binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def gunicorn_command(app: str, chdir: Path, port: int, args: argparse.Namespace) -> list[str]:
    """The one gunicorn command line both the baseline and the app are served with."""
    return [
        sys.executable, "-m", "gunicorn", app,
        "--chdir", str(chdir),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--threads", str(args.gunicorn_threads),
        # No --access-logfile: gunicorn then writes no access log, which would cost per request.
        "--log-level", "warning",
    ]  # fmt: skip


@dataclass
class Server:
    """A running gunicorn: where it listens and where it logs."""

    base_url: str
    log_path: Path
    pid: int = 0

    def peak_rss_mib(self) -> list[float]:
        """Peak resident memory (VmHWM) of each gunicorn worker so far, in MiB."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        peaks = []
        for child in children.read_text().split() if children.exists() else []:
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{child}/status").read_text()
                kib = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
                if kib:
                    peaks.append(round(int(kib.group(1)) / 1024, 1))
        return sorted(peaks)

    def log_tail(self, lines: int = 30) -> str:
        """The end of gunicorn's log, to explain a failed check."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def serve(
    app: str, chdir: Path, ready_path: str, env: dict[str, str], args: argparse.Namespace
) -> Iterator[Server]:
    """Run gunicorn until the block ends; yield it once ready_path answers 200."""
    port = free_port()
    server = Server(
        f"http://127.0.0.1:{port}",
        Path(env["INSTANCE_PATH"]).parent / f"gunicorn-{app.split(':')[0]}-{port}.log",
    )
    with server.log_path.open("w") as log:
        # Own session: Ctrl-C reaches only this harness, which then stops gunicorn in order.
        proc = subprocess.Popen(
            gunicorn_command(app, chdir, port, args),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server.pid = proc.pid
        try:
            _wait_ready(proc, server, ready_path)
            yield server
        finally:
            _stop(proc)


def _wait_ready(proc: subprocess.Popen, server: Server, ready_path: str) -> None:
    url = server.base_url + ready_path
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            if _get(url, timeout=2)[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(
        f"{url} did not answer 200 within {SERVER_START_TIMEOUT:.0f}s\n{server.log_tail()}"
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: gunicorn's graceful shutdown of master and workers
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(SERVER_STOP_TIMEOUT)
    # Kill the whole group so no orphaned worker keeps the port or a database connection.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# ---------------------------------------------------------------- measuring


def default_check(ctx: Context, target: Target) -> None:
    """GET the target once: it must answer 200 and contain the expected text."""
    url = ctx.base_url + target.path.format(**ctx.seed)
    status, body = _get(url)
    if status != 200:
        raise RuntimeError(f"{target.name}: GET {url} answered {status}, expected 200")
    if target.expect:
        wanted = target.expect.format(**ctx.seed)
        if wanted not in body and escape(wanted) not in body:
            raise RuntimeError(f"{target.name}: GET {url} does not contain {wanted!r}")


def measure(name: str, label: str, url: str, script: str | None, env: dict[str, str], args) -> Row:
    """Warm up, then measure one URL; print progress as it goes."""
    print(f"  {label:<18} warm-up {args.warmup}s, measure {args.duration}s …", flush=True)
    run_wrk(url, args, args.warmup, script, env)
    result = run_wrk(url, args, args.duration, script, env)
    return Row(name, label, url, result)


def measure_hello(env: dict[str, str], args, label: str) -> Row:
    """Serve bench/hello.py and measure it; the baseline every ratio is divided by."""
    with serve("hello:app", BENCH, "/", env, args) as server:
        status, body = _get(server.base_url + "/")
        if status != 200 or "Hello" not in body:
            raise RuntimeError(f"hello answered {status}: {body[:200]!r}")
        return measure("hello", label, server.base_url + "/", None, env, args)


def seed_database(ctx: Context, args) -> dict[str, Any]:
    """Recreate and seed the bench database in a child process with the servers' env."""
    cmd = [sys.executable, str(BENCH / "seed.py"), "--database-url", ctx.database_url]
    cmd += ["--articles", str(args.articles), "--app-root", str(args.app_root), "--json"]
    cmd += ["--members", str(ctx.members)]
    out = subprocess.run(cmd, env=ctx.env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- reporting


def machine_note(args, database_url: str) -> dict[str, Any]:
    """Where and how the numbers were taken, so two result files can be compared."""
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    commit = subprocess.run(
        ["git", "-C", str(args.app_root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gunicorn": version("gunicorn"),
        "flask": version("flask"),
        "wrk": wrk_version.split(" Copyright")[0].strip(),
        "database": _database_version(database_url),
        "app_root": str(args.app_root),
        "commit": commit or "not a git checkout",
        "settings": {
            "workers": args.workers,
            "worker_class": args.worker_class,
            "gunicorn_threads": args.gunicorn_threads,
            "wrk_threads": args.threads,
            "connections": args.connections,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "articles": args.articles,
        },
    }


def _database_version(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return "PostgreSQL " + str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def print_table(rows: list[Row], first: Row, last: Row, note: dict[str, Any]) -> None:
    """Print the results table, the baseline drift and any warnings."""
    print()
    print(f"{'target':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs hello (req/s)':>19}")
    for row in rows:
        r = row.result
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        mark = "" if r.clean else "  !"
        print(
            f"{row.label:<24}{r.requests_per_sec:>10.1f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}"
            f"{ratio:>19}{mark}"
        )
    mean = (first.result.requests_per_sec + last.result.requests_per_sec) / 2
    drift = (last.result.requests_per_sec - first.result.requests_per_sec) / mean
    print(f"\nbaseline: mean {mean:.1f} req/s of first and last run; drift {drift:+.1%}")
    if abs(drift) > DRIFT_WARNING:
        print(f"WARNING: the baseline moved more than {DRIFT_WARNING:.0%}; the machine was busy.")
    for row in rows:
        if not row.result.clean:
            r = row.result
            print(
                f"WARNING: {row.label} (!): {r.non_2xx_3xx} non-2xx/3xx responses, "
                f"socket errors {r.socket_errors}, {r.requests} requests"
            )
    s = note["settings"]
    print(
        f"\nmachine: nproc {note['nproc']}, Python {note['python']}, {note['database']}, "
        f"gunicorn {note['gunicorn']} ({s['workers']} workers, {s['worker_class']}, "
        f"{s['gunicorn_threads']} threads), {note['wrk']} "
        f"(-t{s['wrk_threads']} -c{s['connections']} -d{s['duration_s']}s), "
        f"commit {note['commit']}, load at start {note['load_avg_at_start']}"
    )


def write_json(rows: list[Row], note: dict[str, Any], db: str, baseline_mean: float) -> Path:
    """Save the run to bench/results/<timestamp>-<db>.json (git-ignored)."""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-{db}.json"
    payload = {
        "timestamp": stamp,
        "machine": note,
        "baseline_mean_rps": round(baseline_mean, 1),
        "rows": [asdict(row) for row in rows],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; the defaults keep a whole run under about two minutes."""
    names = [t.name for t in TARGETS]
    p = argparse.ArgumentParser(description="Benchmark the app against a Flask hello world.")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help="database is dropped and recreated")
    p.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    p.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each measurement")
    p.add_argument("--connections", type=int, default=16, help="wrk -c")
    p.add_argument("--threads", type=int, default=2, help="wrk -t")
    p.add_argument("--workers", type=int, default=2, help="gunicorn --workers")
    p.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    p.add_argument("--gunicorn-threads", type=int, default=1, help="gunicorn --threads (gthread)")
    p.add_argument("--articles", type=int, default=500)
    p.add_argument(
        "--members", type=int, nargs="+", default=[20_000], help="member counts, e.g. 20000 1000000"
    )
    p.add_argument("--storm", action="store_true", help="then the webhook storm (bench/storm.py)")
    p.add_argument("--full", action="store_true", help="both databases, 20k and 1M, and the storm")
    p.add_argument("--no-nginx", dest="nginx", action="store_false", help="skip nginx in front")
    p.add_argument("--redis-url", default="", help="REDIS_URL for the app (default: none)")
    p.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"from {names}")
    p.add_argument(
        "--app-root",
        type=Path,
        default=ROOT,
        help="checkout whose wsgi.py and donations/ are measured (e.g. a `git archive` export)",
    )
    p.add_argument("--keep-db", action="store_true", help="keep the PostgreSQL database")
    storm_arguments(p)
    args = p.parse_args(argv)
    args.app_root = args.app_root.resolve()
    if args.full:
        args.db, args.members, args.storm = "both", [20_000, 1_000_000], True
    args.nginx = args.nginx and bool(shutil.which("nginx") or Path("/usr/sbin/nginx").exists())
    if args.connections < args.threads:
        p.error("--connections must be at least --threads (wrk needs one per thread)")
    return args


def _raise_on_sigterm(signum, frame) -> None:
    # Turn SIGTERM into the same unwinding as Ctrl-C so servers and the database are cleaned up.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Measure each database and member count asked for, then the storm; print and save."""
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    runs: list[dict[str, Any]] = []
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    try:
        for database in databases:
            for members in args.members:
                runs.append(run_once(args, database, members))
        if len(runs) > 1:
            print_summary(runs)
        if args.storm:
            from storm import print_storm, run_storm

            result = run_storm(args)
            print_storm(result)
            runs.append({"storm": result})
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    except (CheckFailed, RuntimeError, subprocess.SubprocessError) as exc:
        # Known failure modes get one readable message; anything else keeps its traceback.
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    if len(runs) > 1:
        path = write_summary(runs)
        print(f"summary: {path.relative_to(ROOT)}")
    return 0


def run_once(args: argparse.Namespace, database: str, members: int) -> dict[str, Any]:
    """Seed, serve, measure and report one database at one member count; always clean up."""
    targets = [t for t in TARGETS if not args.only or t.name in args.only]
    tmp = Path(tempfile.mkdtemp(prefix="bench-donations-"))
    database_url = args.pg_url if database == "postgres" else f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp / "instance"),
        # Pinned so a developer's .env (loaded by wsgi.py, never overriding) cannot change
        # what is measured: emulator mode, in-process rate-limit storage, no mail.
        "STRIPE_SECRET_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        # Production settings, so the emulator has to be asked for by name (design §4).
        "STRIPE_EMULATOR": "1",
        "REDIS_URL": args.redis_url,
        "MAIL_SERVER": "",
        # As deployed: webhooks queued, a `flask webhooks work` process beside the servers.
        "WEBHOOK_QUEUE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    ctx = Context(database_url=database_url, env=env, seed={}, members=members)
    try:
        print(f"seeding {args.articles} articles and {members:,} members into {database} …",
              flush=True)  # fmt: skip
        ctx.seed = seed_database(ctx, args)
        ctx.seed["members_shown"] = f"<strong>{members:,}</strong>"
        print(f"  {ctx.seed['articles']} articles, ~{ctx.seed['mean_words']} words each, "
              f"{ctx.seed['seconds']}s")  # fmt: skip
        note = machine_note(args, database_url)
        note["members"] = members
        for target in targets:
            if target.setup:
                target.setup(ctx)
        print("measuring:", flush=True)
        first = measure_hello(env, args, "hello (baseline, 1st)")
        rows: list[Row] = []
        with serve("wsgi:app", args.app_root, "/healthz", env, args) as server:
            worker = queue_worker(args, env, tmp)
            try:
                ctx.base_url = server.base_url
                for target in targets:
                    try:
                        (target.check or default_check)(ctx, target)
                    except Exception as exc:
                        log = server.log_tail()
                        raise CheckFailed(f"{exc}\n--- gunicorn log ---\n{log}") from None
                    url = server.base_url + target.path.format(**ctx.seed)
                    rows.append(
                        measure(target.name, target.label, url, target.script, ctx.env, args)
                    )
                if args.nginx and (not args.only or "article" in args.only):
                    rows.extend(measure_through_nginx(server.base_url, ctx, args, tmp))
                note["peak_rss_mib_per_worker"] = server.peak_rss_mib()
            finally:
                worker.terminate()
                worker.wait(10)
        last = measure_hello(env, args, "hello (baseline, last)")
        baseline = (first.result.requests_per_sec + last.result.requests_per_sec) / 2
        for row in [first, *rows, last]:
            row.ratio = row.result.requests_per_sec / baseline
        print_table([first, *rows, last], first, last, note)
        path = write_json([first, *rows, last], note, database, baseline)
        print(f"results: {path.relative_to(ROOT)}")
        return {"db": database, "members": members, "rows": [first, *rows, last], "note": note}
    finally:
        if database == "postgres" and not args.keep_db:
            try:
                drop_database(database_url)
            except Exception as exc:
                print(f"could not drop the benchmark database: {exc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
