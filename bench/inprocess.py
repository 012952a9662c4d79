"""Per-request cost of the app's hot paths in process, against a Flask hello world.

No server and no network: each target is called through WSGI directly, so the numbers
are far less sensitive to a busy machine than wrk's. Each target is measured three ways: a
page cache hit (as most anonymous readers are served), a page cache miss (the stored copy is
forgotten before every request, so each one goes through Flask and is stored again), and
with FRONT_CACHE=0 (Flask alone, no page cache). Run by hand:

    .venv/bin/python bench/inprocess.py [--database-url URL] [--members N]
    .venv/bin/python bench/inprocess.py --profile article [--front hit|miss|off]
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


FRONT_MODES = ("hit", "miss", "off")
HEADINGS = {"hit": "page cache hit", "miss": "page cache miss", "off": "FRONT_CACHE=0"}


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
    p.add_argument("--front", choices=FRONT_MODES, default="hit", help="what --profile measures")
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

    settings = {"DATABASE_URL": url, "APP_ENV": "production", "SECRET_KEY": os.urandom(32).hex(),
                "STRIPE_SECRET_KEY": "", "STRIPE_EMULATOR": "1", "REDIS_URL": ""}  # fmt: skip
    app = create_app(settings)
    flask_only = create_app({**settings, "FRONT_CACHE": "0"})
    front = app.extensions["page_cache"]

    def missing(environ, start_response):
        front.clear()  # a dict clear: nothing next to a request through Flask
        return app(environ, start_response)

    apps = {"hit": app, "miss": missing, "off": flask_only}
    slug = seeded["sample_slug"] if seeded else None
    if slug is None:
        with app.app_context():
            from donations.articles.services import latest_published

            slug = latest_published(1, 1).items[0].slug
    targets = {
        "healthz": "/healthz",
        "progress": "/api/progress",
        "embed": "/embed/progress",
        "article": f"/articles/{slug}",
        "home": "/",
        "feed": "/feed.xml",
    }
    if args.profile:
        target = hello if args.profile == "hello" else apps[args.front]
        path = "/" if args.profile == "hello" else targets[args.profile]
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
    print(f"ms per request (vs hello world); hello world: {base:.3f} ms")
    print(f"{'target':<10}" + "".join(f"{HEADINGS[mode]:>22}" for mode in FRONT_MODES))
    for name, path in targets.items():
        cells = []
        for mode in FRONT_MODES:
            ms = per_request_ms(apps[mode], path, args.n)
            cells.append(f"{ms:>13.3f} ({ms / base:>4.1f}x)")
        print(f"{name:<10}" + "".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
