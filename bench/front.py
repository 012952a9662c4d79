"""bench/run.py's helpers around the app: the queue worker beside it, nginx in front of it
(deploy/nginx/donations.conf, as deployed), and the summary across databases and sizes."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GROWTH_LIMIT = 0.10  # the bound: every ratio within ±10 % from 20k to 1M members


def queue_worker(args, env: dict[str, str], tmp: Path) -> subprocess.Popen:
    """`flask webhooks work` beside the servers, as deployed with WEBHOOK_QUEUE=1."""
    log = (tmp / "queue-worker.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "work"],
        cwd=args.app_root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def nginx_in_front(upstream: str, tmp: Path) -> Iterator[str]:
    """Run nginx with the deploy site in front of upstream (host:port); yield its base URL."""
    port = _free_port()
    site = (ROOT / "deploy/nginx/donations.conf").read_text()
    site = site.replace("/srv/donations", str(ROOT)).replace(
        "/var/cache/nginx/donations", str(tmp / "nginx-cache")
    )
    site = site.replace("server 127.0.0.1:8000;", f"server {upstream};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (tmp / "site.conf").write_text(site)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"user root;\npid {tmp}/nginx.pid;\nerror_log {tmp}/nginx-error.log;\n"
        "worker_processes 1;\nevents { worker_connections 1024; }\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp}/body;\n"
        f"  proxy_temp_path {tmp}/proxy;\n  include /etc/nginx/mime.types;\n"
        f"  include {tmp}/site.conf;\n}}\n"
    )
    proc = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGQUIT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        proc.kill()


def measure_through_nginx(app_url: str, ctx, args, tmp: Path) -> list:
    """The article page and the tracker through nginx's micro-cache (one worker process)."""
    from run import measure

    rows = []
    with nginx_in_front(app_url.removeprefix("http://"), tmp) as front:
        for name, label, path in (
            ("article-nginx", "article via nginx", "/articles/{sample_slug}"),
            ("progress-nginx", "api/progress via nginx", "/api/progress"),
        ):
            url = front + path.format(**ctx.seed)
            rows.append(measure(name, label, url, None, ctx.env, args))
    return rows


def print_summary(runs: list[dict[str, Any]]) -> None:
    """Every target's ratio per database and member count, and its growth between sizes."""
    columns = [(run["db"], run["members"]) for run in runs]
    ratios: dict[str, dict[tuple[str, int], float]] = {}
    for run in runs:
        for row in run["rows"]:
            if not row.name.startswith("hello"):
                ratios.setdefault(row.label, {})[(run["db"], run["members"])] = row.ratio
    head = "".join(f"{db[:6] + ' ' + format(members, ','):>13}" for db, members in columns)
    print(f"\nsummary: req/s ratio to hello world of the same run\n{'target':<24}{head}")
    for label, by_run in ratios.items():
        cells = "".join(f"{by_run[c]:>12.2f}x" if c in by_run else f"{'':>13}" for c in columns)
        print(f"{label:<24}{cells}")
    for db in dict.fromkeys(db for db, _ in columns):
        sizes = sorted(m for d, m in columns if d == db)
        if len(sizes) < 2:
            continue
        small, large = (db, sizes[0]), (db, sizes[-1])
        for label, by_run in ratios.items():
            if small in by_run and large in by_run and by_run[small]:
                growth = by_run[large] / by_run[small] - 1
                flag = "" if abs(growth) <= GROWTH_LIMIT else "  (beyond ±10 %)"
                print(f"  {db} {label}: {sizes[0]:,} → {sizes[-1]:,} members {growth:+.1%}{flag}")
    for run in runs:
        rss = run["note"].get("peak_rss_mib_per_worker")
        print(f"peak RSS per worker, {run['db']} {run['members']:,}: {rss} MiB")


def write_summary(runs: list[dict[str, Any]]) -> Path:
    """Save every run of this command to bench/results/<timestamp>-summary.json."""
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results / f"{stamp}-summary.json"
    payload = [
        run if "storm" in run else {**run, "rows": [asdict(r) for r in run["rows"]]} for run in runs
    ]
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
