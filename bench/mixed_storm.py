"""Mixed webhook storm: what a renewal day sends, through gunicorn to 1 and then 2 queue workers.

Per member the six events a subscription Checkout delivers to our endpoint (checkout.session
.completed, customer.subscription.created and .updated, invoice.paid, invoice_payment.paid,
charge.succeeded) and a renewal's four (customer.subscription.updated, invoice.paid,
invoice_payment.paid, charge.succeeded); a fifth of the members cancel
(customer.subscription.deleted); one-time gifts (checkout.session.completed, charge.succeeded);
20 % repeats; shuffled; several senders. Events of one customer lie close together in the
storm, so two workers' batches touch the same people: the mix that deadlocked (issue 18).

PostgreSQL (`bench_mixed_storm`, recreated per run), gunicorn with deploy/gunicorn.conf.py
(WEB_CONCURRENCY 2) and WEBHOOK_QUEUE=1, then `flask webhooks work` processes. For each run it
prints the seconds from the last delivery answered to every event applied, the events that
needed a second attempt, the deadlocks PostgreSQL detected (pg_stat_database), and the counter
against a recount. `--compare-root` runs the same storms on another checkout in the same run
(e.g. `git archive` of the code before a change), so both figures share the machine's load:

    .venv/bin/python bench/mixed_storm.py [--members 400] [--workers 1 2] [--compare-root DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]
import webhooks  # noqa: E402
from run import free_port  # noqa: E402
from seed import create_database, drop_database  # noqa: E402
from storm import _scalar, _send_all  # noqa: E402

from tests.payments.storm_mix import gift_events, member_events  # noqa: E402
from tests.payments.stripe_events import World  # noqa: E402  (Stripe's fixtures)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_mixed_storm"
DRAIN_LIMIT = 600  # seconds: the old code's 60 s retries fit many times over


def storm(members: int, gifts: int, repeats: float, seed: int) -> tuple[list[bytes], int, int]:
    """Signed HTTP requests (shuffled, with repeats), the unique events and the members left."""
    rng = random.Random(seed)
    world = World()
    events: list[dict[str, Any]] = []
    cancelling = set(rng.sample(range(members), members // 5))
    for n in range(members):
        events += member_events(world, n, n in cancelling)
    for n in range(gifts):
        events += gift_events(world, n)
    now = int(time.time())
    bodies = [json.dumps(e, separators=(",", ":")) for e in events]
    bodies += rng.choices(bodies, k=round(len(bodies) * repeats))
    rng.shuffle(bodies)
    requests = []
    for body in bodies:
        head = (
            "POST /stripe/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n"
            f"Stripe-Signature: {webhooks._sign(body, now)}\r\n"
            f"Content-Length: {len(body.encode())}\r\n\r\n"
        )
        requests.append(head.encode() + body.encode())
    return requests, len(events), members - len(cancelling)


def _figures(url: str) -> dict[str, int]:
    sql = {
        "applied": "SELECT count(*) FROM stripe_events WHERE status IN ('processed', 'ignored')",
        "second_attempts": "SELECT count(*) FROM stripe_events WHERE attempts > 1",
        "failed_now": "SELECT count(*) FROM stripe_events WHERE status = 'failed'",
        "counter": "SELECT members FROM member_counter WHERE id = 1",
        "recount": "SELECT count(DISTINCT user_id) FROM memberships WHERE status IN "
        "('active', 'trialing', 'past_due')",
        "deadlocks": "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
    }
    return {name: int(_scalar(url, query) or 0) for name, query in sql.items()}


def _start(cmd: list[str], root: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _wait_http(port: int, proc: subprocess.Popen, log: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2),
        ):
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer:\n{log.read_text()[-3000:]}")


def run_one(root: Path, queue_workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """One storm on the code in `root`: serve, send, wait until every event is applied."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-mixed-"))
    url = args.storm_url
    port = free_port()
    env = {
        **os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-" + os.urandom(24).hex(),
        "DATABASE_URL": url, "INSTANCE_PATH": str(tmp / "instance"),
        "STRIPE_SECRET_KEY": "", "STRIPE_EMULATOR": "1", "REDIS_URL": "", "MAIL_SERVER": "",
        "STRIPE_WEBHOOK_SECRET": webhooks.SECRET, "WEBHOOK_QUEUE": "1",
        "WEB_CONCURRENCY": "2", "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "/dev/null", "GUNICORN_LOG_LEVEL": "warning",
        "PYTHONDONTWRITEBYTECODE": "1",
    }  # fmt: skip
    create_database(url)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=root, env=env, check=True, capture_output=True,
    )  # fmt: skip
    requests, unique, members_left = storm(args.members, args.gifts, args.repeats, args.seed)
    deadlocks_before = _figures(url)["deadlocks"]
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(root / "deploy/gunicorn.conf.py")]
    web = _start([*gunicorn, "wsgi:app"], root, env, tmp / "gunicorn.log")
    work = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "work"]
    workers = []
    try:
        _wait_http(port, web, tmp / "gunicorn.log")
        workers = [_start(work, root, env, tmp / f"worker-{n}.log") for n in range(queue_workers)]
        started = time.perf_counter()
        statuses, _ = asyncio.run(_send_all(port, requests, args.senders))
        sent = time.perf_counter()
        while _figures(url)["applied"] < unique:
            if time.perf_counter() - sent > DRAIN_LIMIT:
                break
            time.sleep(0.1)
        drained = time.perf_counter() - sent
        figures = _figures(url)
    finally:
        for proc in workers:
            _stop(proc)
        _stop(web)
        if not args.keep_db:
            drop_database(url)
    exited = [p.returncode for p in workers if p.returncode not in (0, -signal.SIGTERM)]
    return {
        "root": str(root),
        "queue_workers": queue_workers,
        "deliveries": len(requests),
        "events": unique,
        "sent_s": round(sent - started, 1),
        "drain_s": round(drained, 2),
        "all_applied": figures["applied"] == unique,
        "second_attempts": figures["second_attempts"],
        "failed_now": figures["failed_now"],
        "deadlocks": figures["deadlocks"] - deadlocks_before,
        "counter": figures["counter"],
        "recount": figures["recount"],
        "expected_members": members_left,
        "non_200": len(statuses) - statuses.count(200),
        "workers_exited": exited,
        "logs": str(tmp),
    }


def print_run(label: str, r: dict[str, Any]) -> None:
    """One storm's figures on a line."""
    print(
        f"{label:>8} {r['queue_workers']} worker(s): {r['deliveries']} deliveries of "
        f"{r['events']} events sent in {r['sent_s']} s; all applied {r['drain_s']} s after the "
        f"last{'' if r['all_applied'] else ' (NOT ALL APPLIED)'}; second attempts "
        f"{r['second_attempts']}; deadlocks {r['deadlocks']}; counter {r['counter']} vs "
        f"recount {r['recount']} (expected {r['expected_members']}); non-200 {r['non_200']}"
        f"{'; workers exited ' + str(r['workers_exited']) if r['workers_exited'] else ''}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the storms; exit 1 when a storm of the measured code misses a check."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--members", type=int, default=400)
    p.add_argument("--gifts", type=int, default=200)
    p.add_argument("--repeats", type=float, default=0.20, help="share of repeated deliveries")
    p.add_argument("--senders", type=int, default=8)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="queue workers per run")
    p.add_argument("--app-root", type=Path, default=ROOT, help="the code measured")
    p.add_argument("--compare-root", type=Path, help="another checkout, measured in the same run")
    p.add_argument("--storm-url", default=DEFAULT_URL, help="dropped and recreated (bench*)")
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--seed", type=int, default=20261218)
    args = p.parse_args(argv)
    runs = [("before", args.compare_root.resolve())] if args.compare_root else []
    runs.append(("after" if args.compare_root else "", args.app_root.resolve()))
    ok = True
    for label, root in runs:
        for count in args.workers:
            result = run_one(root, count, args)
            print_run(label, result)
            if label != "before":
                ok &= (
                    result["all_applied"]
                    and result["counter"] == result["recount"] == result["expected_members"]
                    and result["non_200"] == 0
                    and not result["workers_exited"]
                )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
