"""A member's article page in process: milliseconds per request and a cProfile of it.

No server and no network: the app's WSGI callable is called directly with the cookie of a
real login (through the form, as bench/member.py does against gunicorn), so what is left is
the app's own work per request. Needs a database seeded by seed.py with --members > 0:

    .venv/bin/python bench/seed.py --database-url postgresql+psycopg://…/bench_x --members 20000
    .venv/bin/python bench/member_profile.py --database-url postgresql+psycopg://…/bench_x
    .venv/bin/python bench/member_profile.py --database-url … --profile 2000
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import tempfile
import time
from html import unescape
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from member import AGENT  # noqa: E402
from seed import MEMBER_EMAIL, MEMBER_PASSWORD  # noqa: E402


def _app(database_url: str):
    os.environ.update(
        APP_ENV="production",
        SECRET_KEY="bench-profile-" + os.urandom(16).hex(),
        DATABASE_URL=database_url,
        INSTANCE_PATH=tempfile.mkdtemp(prefix="bench-member-profile-"),
        STRIPE_SECRET_KEY="",
        STRIPE_WEBHOOK_SECRET="",
        STRIPE_EMULATOR="1",
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
        MAIL_SERVER="",
        WEBHOOK_QUEUE="1",
    )
    from donations import create_app

    return create_app()


def _log_in(app) -> str:
    """Log in through the form; return the Cookie header the browser would send."""
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=AGENT, REMOTE_ADDR="127.0.0.1")
    page = client.get("/login").get_data(as_text=True)
    token = unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))
    answer = client.post(
        "/login",
        data={"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD, "csrf_token": token},
    )
    if answer.status_code not in (302, 303):
        raise SystemExit(f"login answered {answer.status_code}")
    client.get(answer.headers["Location"])
    return "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())


def _slug(app) -> str:
    from sqlalchemy import select

    from donations.extensions import db
    from donations.models import Article

    with app.app_context():
        return db.session.scalar(select(Article.slug).where(Article.published).limit(1))


def _hello_cpu_ms(n: int) -> float:
    """CPU per request of bench/hello.py called the same way: the floor of any Flask page."""
    from hello import app
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/").get_environ()
    times = []
    for _ in range(5):
        cpu = time.process_time()
        for _ in range(n):
            b"".join(app(dict(environ), lambda *a: None))
        times.append((time.process_time() - cpu) * 1000 / n)
    return sorted(times)[2]


def main(argv: list[str] | None = None) -> int:
    """Time (and optionally profile) the member's article page in process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("-n", type=int, default=1000, help="requests per timed batch")
    parser.add_argument("--profile", type=int, default=0, help="profile this many requests")
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args(argv)

    from werkzeug.test import EnvironBuilder

    app = _app(args.database_url)
    cookie = _log_in(app)
    path = f"/articles/{_slug(app)}"
    environ = EnvironBuilder(
        path=path,
        headers={"Cookie": cookie, "User-Agent": AGENT},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    ).get_environ()
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)
        if any(name == "Set-Cookie" for name, _ in headers):
            raise SystemExit("the member's page set a cookie: the login was lost")

    def once() -> bytes:
        body = app(dict(environ), start_response)
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return data

    hello_ms = _hello_cpu_ms(args.n)
    page = once().decode()
    if "Thank you for being a member" not in page or "Log out" not in page:
        raise SystemExit(f"not the member's page ({statuses[-1]}):\n{page[:500]}")
    times = []
    for _ in range(5):
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.n):
            once()
        times.append(
            (
                (time.perf_counter() - started) * 1000 / args.n,
                (time.process_time() - cpu) * 1000 / args.n,
            )
        )
    wall, cpu = sorted(times)[2]
    print(f"member article: {wall:.3f} ms per request ({cpu:.3f} ms CPU), median of 5 x {args.n}")
    print(f"hello world:    {hello_ms:.3f} ms CPU per request (bench/hello.py, in process)")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.profile):
            once()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(args.lines)
        stats.sort_stats("tottime").print_stats(args.lines)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
