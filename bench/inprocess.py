"""Per-request cost of the app's hot paths in process, against a Flask hello world.

No server and no network: each target is called through WSGI directly, so the numbers
are far less sensitive to a busy machine than wrk's. Run by hand:

    .venv/bin/python bench/inprocess.py [--database-url URL] [--members N] [--profile PATH]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))


def _environ(path: str, headers: dict[str, str] | None = None) -> dict:
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(path=path, headers=headers or {}).get_environ()


def per_request_ms(app, path: str, n: int, headers: dict[str, str] | None = None) -> float:
    """Median of 5 batches of n WSGI calls, in milliseconds per request."""
    template = _environ(path, headers)

    def start_response(status, response_headers, exc_info=None):
        return None

    times = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            body = app(dict(template), start_response)
            for _chunk in body:
                pass
            if hasattr(body, "close"):
                body.close()
        times.append((time.perf_counter() - started) * 1000 / n)
    return sorted(times)[2]


def main(argv: list[str] | None = None) -> int:
    """Seed a small database, then time each target and hello world in this process."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", help="an already seeded bench* database (else seeded here)")
    p.add_argument("--members", type=int, default=20_000)
    p.add_argument("--articles", type=int, default=20)
    p.add_argument("-n", type=int, default=300, help="requests per batch")
    p.add_argument("--profile", help="target name to profile with cProfile")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-inprocess-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.update(INSTANCE_PATH=str(tmp / "instance"), STRIPE_EMULATOR="1")
    seeded = None
    if not args.database_url:
        import json
        import subprocess

        out = subprocess.run(
            [sys.executable, str(BENCH / "seed.py"), "--database-url", url, "--json",
             "--articles", str(args.articles), "--members", str(args.members)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seeded = json.loads(out.stdout.strip().splitlines()[-1])
    from hello import app as hello

    from donations import create_app

    settings = {"DATABASE_URL": url, "APP_ENV": "production", "SECRET_KEY": "bench",
                "STRIPE_SECRET_KEY": "", "STRIPE_EMULATOR": "1", "REDIS_URL": ""}  # fmt: skip
    app = create_app(settings)
    slug = seeded["sample_slug"] if seeded else None
    if slug is None:
        with app.app_context():
            from donations.articles.services import latest_published

            slug = latest_published(1, 1).items[0].slug
    targets = {
        "hello": (hello, "/"),
        "healthz": (app, "/healthz"),
        "progress": (app, "/api/progress"),
        "embed": (app, "/embed/progress"),
        "article": (app, f"/articles/{slug}"),
        "home": (app, "/"),
        "feed": (app, "/feed.xml"),
    }
    if args.profile:
        target, path = targets[args.profile]
        per_request_ms(target, path, 20)
        prof = cProfile.Profile()
        prof.enable()
        per_request_ms(target, path, args.n // 5)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
        return 0
    base = per_request_ms(hello, "/", args.n)
    print(f"{'target':<12}{'ms/request':>12}{'vs hello':>10}")
    for name, (target, path) in targets.items():
        ms = per_request_ms(target, path, args.n)
        print(f"{name:<12}{ms:>12.3f}{ms / base:>9.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
