"""Webhook storm: 60,000 signed deliveries (10 % duplicates, shuffled) from 16 senders at once.

PostgreSQL, the app under gunicorn (2 sync workers) with WEBHOOK_QUEUE=1 and `flask webhooks
work` processes beside it, as in production. It reports how fast the deliveries were taken,
how long until every event was applied, and checks the ledger, the records and the counter
against a recount, with no event applied twice. Run by hand (bench/run.py --storm runs it too):

    .venv/bin/python bench/storm.py [--events 60000] [--senders 16] [--queue-workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import webhooks  # noqa: E402
from seed import create_database, drop_database  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_storm"
GOAL_SECONDS = 120


def deliveries(events: int, duplicates: float, seed: int) -> tuple[list[bytes], int]:
    """HTTP requests for `events` deliveries: unique events plus repeats, shuffled, signed now."""
    rng = random.Random(seed)
    unique = round(events / (1 + duplicates))
    now = int(time.time())
    bodies = [
        json.dumps(webhooks._subscription_event(n, now), separators=(",", ":"))
        for n in range(unique)
    ]
    bodies += rng.choices(bodies, k=events - unique)
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
    return requests, unique


async def _send_all(
    port: int, requests: list[bytes], senders: int
) -> tuple[list[int], list[float]]:
    """Each sender takes the next request, opens a connection, sends it and reads the answer."""
    statuses: list[int] = []
    latencies: list[float] = []
    queue = iter(requests)

    async def sender() -> None:
        for request in queue:
            started = time.perf_counter()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await writer.drain()
            answer = await reader.read()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            latencies.append(time.perf_counter() - started)
            statuses.append(int(answer.split(b" ", 2)[1]) if answer else 0)

    await asyncio.gather(*(sender() for _ in range(senders)))
    return statuses, latencies


def _scalar(database_url: str, sql: str) -> Any:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def recount(database_url: str) -> dict[str, int]:
    """What the database holds after the storm, each figure from its own table."""
    sql = {
        "ledger": "SELECT count(*) FROM stripe_events",
        "processed": "SELECT count(*) FROM stripe_events WHERE status = 'processed'",
        "applied_twice": "SELECT count(*) FROM stripe_events WHERE attempts <> 1",
        "memberships": "SELECT count(*) FROM memberships",
        "member_changes": "SELECT coalesce(sum(delta), 0) FROM member_changes",
        "counter": "SELECT members FROM member_counter WHERE id = 1",
        "recount": "SELECT count(DISTINCT user_id) FROM memberships WHERE status IN "
        "('active', 'trialing', 'past_due')",
    }
    return {name: int(_scalar(database_url, query)) for name, query in sql.items()}


def _queue_workers(count: int, app_root: Path, env: dict[str, str], logs: Path):
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "work", "--idle", "0.1"]
    procs = []
    for n in range(count):
        log = (logs / f"queue-worker-{n}.log").open("w")
        procs.append(
            subprocess.Popen(cmd, cwd=app_root, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    return procs


def run_storm(args: argparse.Namespace) -> dict[str, Any]:
    """Seed an empty schema, serve, send the storm, wait for the queue to drain, recount."""
    from run import serve  # the harness's gunicorn runner (same command line as every target)

    tmp = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    database_url = args.storm_url
    env = {
        **os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp / "instance"),
        "STRIPE_SECRET_KEY": "", "STRIPE_EMULATOR": "1", "REDIS_URL": "", "MAIL_SERVER": "",
        "STRIPE_WEBHOOK_SECRET": webhooks.SECRET, "WEBHOOK_QUEUE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }  # fmt: skip
    create_database(database_url)
    workers = []
    try:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=args.app_root, env=env, check=True, capture_output=True,
        )  # fmt: skip
        print(f"storm: signing {args.events} deliveries …", flush=True)
        requests, unique = deliveries(args.events, args.duplicates, args.seed)
        with serve("wsgi:app", args.app_root, "/healthz", env, args) as server:
            if not args.drain_after:
                workers = _queue_workers(args.queue_workers, args.app_root, env, tmp)
            port = int(server.base_url.rsplit(":", 1)[1])
            print(f"storm: {len(requests)} deliveries ({unique} events), "
                  f"{args.senders} senders …", flush=True)  # fmt: skip
            started = time.perf_counter()
            statuses, latencies = asyncio.run(_send_all(port, requests, args.senders))
            taken = time.perf_counter() - started
            if args.drain_after:  # the endpoint alone first, then the workers alone
                workers = _queue_workers(args.queue_workers, args.app_root, env, tmp)
            waiting = "SELECT count(*) FROM stripe_events WHERE status = 'received'"
            while _scalar(database_url, waiting):
                if time.perf_counter() - started > 30 * GOAL_SECONDS:
                    raise RuntimeError("the queue did not drain")
                time.sleep(0.25)
            drained = time.perf_counter() - started
            rss = server.peak_rss_mib()
        counts = recount(database_url)
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            proc.kill()
        if not args.keep_db:
            drop_database(database_url)
    latencies.sort()
    ok = {
        "all answered 200": statuses.count(200) == len(requests),
        "every event stored once": counts["ledger"] == unique,
        "every event applied": counts["processed"] == unique,
        "none applied twice": counts["applied_twice"] == 0,
        "records": counts["memberships"] == unique == counts["member_changes"],
        "counter = recount": counts["counter"] == counts["recount"] == unique,
        f"drained in < {GOAL_SECONDS} s": drained < GOAL_SECONDS,
    }
    return {
        "deliveries": len(requests),
        "events": unique,
        "senders": args.senders,
        "queue_workers": args.queue_workers,
        "drain_after": args.drain_after,
        "taken_s": round(taken, 1),
        "taken_per_s": round(len(requests) / taken, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "drained_s": round(drained, 1),
        "applied_per_s": round(unique / drained, 1),
        "peak_rss_mib": rss,
        "counts": counts,
        "checks": ok,
        "passed": all(ok.values()),
    }


def print_storm(result: dict[str, Any]) -> None:
    """The storm's figures and checks."""
    print(
        f"\nwebhook storm: {result['deliveries']} deliveries of {result['events']} events, "
        f"{result['senders']} senders, {result['queue_workers']} queue workers"
        f"{' started after the deliveries' if result['drain_after'] else ''}\n"
        f"  taken in {result['taken_s']} s ({result['taken_per_s']}/s; "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms)\n"
        f"  all applied after {result['drained_s']} s ({result['applied_per_s']} events/s)\n"
        f"  peak RSS per gunicorn worker (MiB): {result['peak_rss_mib']}\n"
        f"  recount: {result['counts']}"
    )
    for name, good in result["checks"].items():
        print(f"  {'ok  ' if good else 'FAIL'} {name}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The storm's options (shared with bench/run.py)."""
    p.add_argument("--events", type=int, default=60_000, help="deliveries, duplicates included")
    p.add_argument("--duplicates", type=float, default=0.10, help="share of repeated deliveries")
    p.add_argument("--senders", type=int, default=16, help="concurrent connections")
    p.add_argument("--queue-workers", type=int, default=2, help="`flask webhooks work` processes")
    p.add_argument("--storm-url", default=DEFAULT_URL, help="dropped and recreated (bench*)")
    p.add_argument(
        "--drain-after",
        action="store_true",
        help="start the queue workers once every delivery was answered (measure each alone)",
    )
    p.add_argument("--seed", type=int, default=20261201)


def main(argv: list[str] | None = None) -> int:
    """Run the storm alone."""
    from run import parse_args

    args = parse_args(argv)  # the storm's options, gunicorn settings, --app-root, --keep-db
    result = run_storm(args)
    print_storm(result)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
