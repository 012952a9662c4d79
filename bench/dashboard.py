"""Staff dashboard benchmark: 1,000,000 supporters and 2,000,000 donations on PostgreSQL.

Bulk-loads a bench_dashboard database with INSERT ... SELECT generate_series (after the real
migrations, so every index of the models is there), then times renders of /staff/ through
a logged-in Flask test client, next to GET /healthz (a one-query baseline) in the same run.
With --csv it also measures Python memory (tracemalloc peak) while streaming the CSV export
for about 11,000 and 111,000 rows. Run by hand; never part of the tests:

    .venv/bin/python bench/dashboard.py [--supporters 1000000] [--donations 2000000] [-n 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import text

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))
from seed import create_database, drop_database  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashboard"
STAFF_EMAIL = "bench.staff@example.org"
STAFF_PASSWORD = "bench staff passphrase"  # noqa: S105 - a throwaway benchmark account

# Three years of history ending now: memberships start on a spread of days, 80 % active,
# 3 % past due, 2 % trialing, 15 % cancelled 30 days after they started.
LOAD = [
    """INSERT INTO users (id, name, billing_email, stripe_customer_id, is_staff, created_at,
                          token_secret)
       SELECT g, 'Supporter ' || g, 'supporter' || g || '@example.net', 'cus_' || g, false,
              now() - (g % 1095) * interval '1 day', replace(gen_random_uuid()::text, '-', '')
       FROM generate_series(1, :supporters) g""",
    """INSERT INTO articles (slug, title, summary, author, body_markdown, body_html, published,
                             published_at, created_at, updated_at)
       SELECT 'story-' || g, 'Story ' || g, '', 'Bench', '', '<p>x</p>', true, now(), now(), now()
       FROM generate_series(0, 499) g""",
    """INSERT INTO memberships (user_id, stripe_subscription_id, status, interval, amount, currency,
                                cancel_at_period_end, current_period_end, started_at, ended_at,
                                source_article, fact_at, created_at, updated_at)
       SELECT g, 'sub_' || g,
              CASE WHEN g % 100 < 80 THEN 'active' WHEN g % 100 < 83 THEN 'past_due'
                   WHEN g % 100 < 85 THEN 'trialing' ELSE 'canceled' END,
              CASE WHEN g % 4 = 0 THEN 'year' ELSE 'month' END,
              CASE WHEN g % 4 = 0 THEN 6000 + (g % 10) * 1200 ELSE 500 + (g % 20) * 100 END,
              (ARRAY['usd', 'eur', 'gbp'])[g % 3 + 1], false,
              now() + (g % 30) * interval '1 day' + (g % 86400) * interval '1 second',
              now() - (g % 1095) * interval '1 day' - (g % 86400) * interval '1 second',
              NULL, CASE WHEN g % 10 = 0 THEN 'story-' || (g % 600) END, now(), now(), now()
       FROM generate_series(1, :memberships) g""",
    """INSERT INTO member_changes (user_id, membership_id, delta, occurred_at, recorded_at)
       SELECT user_id, id, 1, started_at, now() FROM memberships""",
    """INSERT INTO member_changes (user_id, membership_id, delta, occurred_at, recorded_at)
       SELECT user_id, id, -1, started_at + interval '30 days', now()
       FROM memberships WHERE status = 'canceled'""",
    """UPDATE memberships SET started_at = started_at, ended_at = started_at + interval '30 days'
       WHERE status = 'canceled'""",
    """UPDATE member_counter SET members = (SELECT count(DISTINCT user_id) FROM memberships
       WHERE status IN ('active', 'past_due', 'trialing')), updated_at = now()""",
    # Bulk rows bypass the transition function, so build the recurring totals it would keep.
    """INSERT INTO recurring_totals (currency, interval, amount, memberships)
       SELECT currency, interval, amount, count(*) FROM memberships
       WHERE status IN ('active', 'past_due', 'trialing') GROUP BY currency, interval, amount""",
    """INSERT INTO failed_payments (stripe_invoice_id, stripe_subscription_id, stripe_customer_id,
                                    amount, currency, attempt_count, failed_at, created_at)
       SELECT 'in_failed_' || id, stripe_subscription_id, 'cus_' || user_id, amount, currency, 1,
              now() - (id % 14) * interval '1 day', now() - (id % 14) * interval '1 day'
       FROM memberships WHERE status = 'past_due'""",
    """INSERT INTO donations (stripe_payment_intent_id, stripe_invoice_id, stripe_customer_id,
                              user_id, kind, amount, fee_amount, currency, source_article,
                              paid_at, created_at)
       SELECT 'pi_' || g, CASE WHEN g % 3 <> 0 THEN 'in_' || g END, 'cus_' || (g % :supporters + 1),
              g % :supporters + 1,
              CASE WHEN g % 3 = 0 THEN 'gift' WHEN g % 30 = 1 THEN 'membership_first'
                   ELSE 'membership_renewal' END,
              1000 + (g % 50) * 100, 0, (ARRAY['usd', 'eur', 'gbp'])[g % 3 + 1],
              CASE WHEN g % 21 = 0 THEN 'story-' || (g % 500) END,
              now() - (g % 1095) * interval '1 day' - (g % 86400) * interval '1 second', now()
       FROM generate_series(1, :donations) g""",
    """INSERT INTO payment_adjustments (stripe_payment_intent_id, stripe_charge_id, amount_refunded,
                                        disputed, updated_at)
       SELECT stripe_payment_intent_id, 'ch_' || id, amount / 2, false, now()
       FROM donations WHERE kind = 'gift' AND id % 50 = 0""",
    """INSERT INTO stripe_events (stripe_event_id, type, created, livemode, object_id, customer_id,
                                  payload, status, attempts, received_at)
       SELECT 'evt_' || g, 'invoice.paid', now() - g * interval '1 minute', false, 'in_' || g,
              'cus_' || g, '{}', CASE WHEN g % 500 = 0 THEN 'failed' ELSE 'processed' END, 1,
              now() - g * interval '1 minute'
       FROM generate_series(1, :events) g""",
    "SELECT setval('users_id_seq', (SELECT max(id) FROM users))",
]


def load(app, args) -> None:
    """Migrate, bulk-load, add the staff account, then VACUUM ANALYZE (as autovacuum would)."""
    from flask_migrate import upgrade

    from donations.accounts.passwords import hash_password
    from donations.extensions import db
    from donations.models import User

    params = {
        "supporters": args.supporters,
        "memberships": int(args.supporters * 0.7),
        "donations": args.donations,
        "events": args.events,
    }
    with app.app_context():
        upgrade()
        for statement in LOAD:
            started = time.perf_counter()
            db.session.execute(text(statement), params)
            db.session.commit()
            words = statement.split()
            print(f"  {words[0]} {words[2]:<20} {time.perf_counter() - started:6.1f}s")
        db.session.add(
            User(email=STAFF_EMAIL, password_hash=hash_password(STAFF_PASSWORD), is_staff=True)
        )
        db.session.commit()
        db.engine.dispose()
    with (
        app.app_context(),
        db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
    ):
        conn.execute(text("VACUUM ANALYZE"))


def timed(client, path: str, n: int) -> list[float]:
    """Milliseconds for n GETs (after 3 unrecorded warm-up requests)."""
    for _ in range(3):
        assert client.get(path).status_code == 200
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    return times


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def csv_peak(client, query: str) -> tuple[int, int, float]:
    """Rows, tracemalloc peak bytes and seconds while consuming a streamed CSV export."""
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/staff/members.csv" + query, buffered=False)
    rows = 0
    for chunk in response.response:
        rows += chunk.count("\n") if isinstance(chunk, str) else chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return rows - 1, peak, seconds


def main(argv: list[str] | None = None) -> int:
    """Load (unless --reuse), then report p50/p99 of /staff/ against /healthz."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--supporters", type=int, default=1_000_000)
    parser.add_argument("--donations", type=int, default=2_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("-n", "--renders", type=int, default=40)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    parser.add_argument("--keep-db", action="store_true", help="don't drop it afterwards")
    parser.add_argument("--csv", action="store_true", help="also measure CSV streaming memory")
    args = parser.parse_args(argv)

    os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="bench-dashboard-")
    from donations import create_app
    from tests.factories import login

    if not args.reuse:
        create_database(args.database_url)
    settings = {"DATABASE_URL": args.database_url, "APP_ENV": "production",
                "SECRET_KEY": os.urandom(32).hex(), "STRIPE_SECRET_KEY": "",
                "STRIPE_EMULATOR": "1", "REDIS_URL": "", "MAIL_SERVER": "",
                "RATELIMIT_ENABLED": False}  # fmt: skip
    app = create_app(settings)
    try:
        if not args.reuse:
            print(f"loading {args.supporters:,} supporters and {args.donations:,} donations ...")
            load(app, args)
        client = app.test_client()
        with app.app_context():
            login(client, STAFF_EMAIL, STAFF_PASSWORD)
        rows = [
            ("GET /healthz (baseline)", "/healthz"),
            ("GET /staff/ (90 days)", "/staff/"),
            ("GET /staff/?range=365", "/staff/?range=365"),
            ("GET /healthz (baseline)", "/healthz"),
        ]
        print(f"\n{'target':<28}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}   n={args.renders}")
        for label, path in rows:
            times = timed(client, path, args.renders)
            p50, p99 = statistics.median(times), percentile(times, 99)
            print(f"{label:<28}{p50:9.1f}{p99:9.1f}{max(times):9.1f}")
        if args.csv:
            print("\nCSV export (tracemalloc peak while streaming)")
            for query in ("?q=supporter+99", "?q=supporter+1"):
                n, peak, seconds = csv_peak(client, query)
                print(
                    f"  {n:>8,} rows  peak {peak / 1024 / 1024:6.2f} MiB  {seconds:6.1f}s  {query}"
                )
    finally:
        with app.app_context():
            from donations.extensions import db

            db.engine.dispose()
        if not args.keep_db and not args.reuse:
            drop_database(args.database_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
