"""Build a fresh benchmark database: migrations, then deterministic long-form articles.

Run by bench/run.py, or by hand:
    .venv/bin/python bench/seed.py --database-url sqlite:////tmp/bench.sqlite3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_SEED = 20261128
BATCH_SIZE = 50
# Newest article date; fixed so every run seeds byte-identical content.
NEWEST = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

NOUNS = (
    "council", "budget", "housing", "river", "school", "hospital", "election", "court", "report",
    "audit", "contract", "mayor", "union", "teacher", "nurse", "landlord", "tenant", "farmer",
    "factory", "bridge", "harbour", "railway", "festival", "museum", "library", "archive",
    "committee", "inspector", "minister", "ward", "district", "county", "police", "fire",
    "brigade", "clinic", "pension", "tax", "levy", "grant", "charity", "volunteer", "neighbour",
    "shopkeeper", "market", "port", "ferry", "airport", "road", "junction", "dam", "reservoir",
    "drought", "flood", "storm", "forest", "park", "pitch", "stadium", "club", "league", "referee",
    "coach", "student", "parent", "pupil", "university", "laboratory", "scientist", "doctor",
    "patient", "waiting-list", "ambulance", "strike", "wage", "rent", "mortgage", "loan", "bank",
    "credit", "debt", "deficit", "surplus", "revenue", "spending", "plan", "policy", "review",
    "inquiry", "whistleblower", "document", "email", "invoice", "spreadsheet", "database",
    "record", "filing", "lawsuit", "judge", "jury", "witness", "verdict", "appeal", "hearing",
    "regulator", "watchdog", "licence", "permit", "planner",
)  # fmt: skip
VERBS = (
    "approved", "rejected", "delayed", "announced", "revealed", "questioned", "reviewed", "cut",
    "raised", "doubled", "halved", "promised", "denied", "confirmed", "disputed", "published",
    "leaked", "signed", "cancelled", "extended", "postponed", "investigated", "funded", "closed",
    "reopened", "expanded", "merged", "challenged", "defended", "criticised", "welcomed",
    "blocked", "overturned", "audited", "recorded", "estimated", "warned", "admitted",
)  # fmt: skip
ADJECTIVES = (
    "local", "regional", "national", "public", "private", "independent", "annual", "quarterly",
    "unexpected", "controversial", "long-awaited", "temporary", "permanent", "costly", "modest",
    "rural", "urban", "coastal", "northern", "southern", "former", "acting", "senior", "junior",
    "official", "unofficial", "confidential", "internal", "external", "emergency", "routine",
    "detailed", "brief", "crowded", "empty",
)  # fmt: skip
FILLERS = (
    "the", "a", "an", "of", "to", "in", "on", "for", "with", "by", "from", "at", "after", "before",
    "during", "since", "about", "against", "between", "under", "over", "and", "but", "because",
    "although", "while", "when", "where", "which", "that",
)  # fmt: skip
NAMES = (
    "Amara Okafor", "Jonas Lindqvist", "Priya Raman", "Tomás Herrera", "Grace Mensah",
    "Elif Demir", "Owen Price", "Mei Tanaka", "Hannah Weiss", "Diego Alvarez", "Fatima Noor",
    "Samuel Boateng",
)  # fmt: skip
ROLES = (
    "a council spokesperson",
    "the union's regional secretary",
    "a retired engineer",
    "the head teacher",
    "a local shop owner",
    "the committee chair",
    "an independent auditor",
)
LINK_HOSTS = ("https://example.org", "https://data.example.gov", "https://archive.example.net")


@dataclass(frozen=True)
class SeedReport:
    """What was seeded, so the harness can pick and verify an article page."""

    articles: int
    mean_words: int
    seconds: float
    sample_slug: str
    sample_title: str
    newest_title: str
    members: int = 0
    # The member the `member` target logs in as (bench/member.py); empty without members.
    member_email: str = ""
    member_name: str = ""


def _sentence(rng: random.Random, lo: int = 8, hi: int = 22) -> str:
    words = []
    for _ in range(rng.randint(lo, hi)):
        pool = rng.choices((NOUNS, VERBS, ADJECTIVES, FILLERS), weights=(4, 2, 2, 5))[0]
        words.append(rng.choice(pool))
    # Inline Markdown so the renderer does real work: emphasis, strong, links.
    roll = rng.random()
    if roll < 0.12:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    elif roll < 0.20:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    elif roll < 0.30:
        i = rng.randrange(len(words) - 1)
        label = f"{words[i]} {words[i + 1]}"
        href = f"{rng.choice(LINK_HOSTS)}/{rng.choice(NOUNS)}/{rng.randint(100, 9999)}"
        words[i : i + 2] = [f"[{label}]({href})"]
    if len(words) > 10 and rng.random() < 0.4:
        words[rng.randrange(3, len(words) - 3)] += ","
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))


def _title(rng: random.Random) -> str:
    words = [rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS)]
    words += [rng.choice(FILLERS), rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    return " ".join(words).capitalize()


def _words(markdown: str) -> int:
    return len(re.findall(r"[A-Za-z][A-Za-z'-]*", re.sub(r"\]\([^)]*\)", "]", markdown)))


def article_markdown(rng: random.Random, target_words: int) -> str:
    """Return one article body: intro, then headed sections with quotes and lists."""
    blocks = [_paragraph(rng), _paragraph(rng)]
    words = sum(_words(b) for b in blocks)
    # Sections average ~200 words; stop half a section early so the mean lands on target.
    while words < target_words - 100:
        section = [f"## {_title(rng)}", _paragraph(rng)]
        extra = rng.random()
        if extra < 0.35:
            quote = _sentence(rng, 12, 24)
            section.append(f"> {quote}\n>\n> — {rng.choice(NAMES)}, {rng.choice(ROLES)}")
        elif extra < 0.6:
            section.append(
                "\n".join(f"- {_sentence(rng, 4, 10)}" for _ in range(rng.randint(3, 6)))
            )
        elif extra < 0.75:
            items = [f"{n}. {_sentence(rng, 5, 12)}" for n in range(1, rng.randint(4, 7))]
            section.append("\n".join(items))
        if rng.random() < 0.3:
            section.append(f"### {_title(rng)}")
        section.append(_paragraph(rng))
        words += sum(_words(b) for b in section)
        blocks.extend(section)
    return "\n\n".join(blocks) + "\n"


def _slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _require_bench_name(url: URL) -> None:
    # This drops and recreates databases: never let a typo point it at real or test data.
    name = Path(url.database or "").stem if url.get_backend_name() == "sqlite" else url.database
    if not (name or "").startswith("bench"):
        raise SystemExit(f"refusing to recreate {name!r}: benchmark databases must be named bench*")


def create_database(database_url: str) -> None:
    """Recreate the benchmark database empty (a SQLite file, or a PostgreSQL database)."""
    url = make_url(database_url)
    _require_bench_name(url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        path.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    drop_database(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


def drop_database(database_url: str) -> None:
    """Drop the benchmark database if it exists (PostgreSQL; SQLite files go with their dir)."""
    url = make_url(database_url)
    _require_bench_name(url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").unlink(missing_ok=True)
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # FORCE: a server killed mid-run may still hold connections.
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def seed_articles(count: int, words: int, seed: int) -> SeedReport:
    """Insert `count` published articles through save_article; needs an app context."""
    from donations.articles.services import ArticleData, save_article
    from donations.extensions import db

    rng = random.Random(seed)
    started = time.perf_counter()
    total_words = 0
    titles: list[tuple[str, str]] = []
    for i in range(count):
        title = _title(rng)
        slug = f"{_slugify(title)}-{i + 1:04d}"
        body = article_markdown(rng, rng.randint(int(words * 0.9), int(words * 1.1)))
        total_words += _words(body)
        save_article(
            ArticleData(
                slug=slug,
                title=title,
                body_markdown=body,
                summary=_sentence(rng, 15, 30),
                author=rng.choice(NAMES),
                published=True,
                published_at=NEWEST - timedelta(hours=9 * i),
            )
        )
        titles.append((slug, title))
        if (i + 1) % BATCH_SIZE == 0:
            db.session.commit()
            # Drop the committed rows from the session so memory stays flat at any count.
            db.session.expunge_all()
    db.session.commit()
    sample_slug, sample_title = titles[len(titles) // 2]
    return SeedReport(
        articles=count,
        mean_words=total_words // max(count, 1),
        seconds=round(time.perf_counter() - started, 2),
        sample_slug=sample_slug,
        sample_title=sample_title,
        newest_title=titles[0][1],
    )


# The same rows as `seed-demo --members` (donations.membership.demo), made by PostgreSQL
# itself: a million members in well under a minute instead of many.
PG_MEMBERS = (
    """INSERT INTO users (stripe_customer_id, name, billing_email, is_staff, created_at,
                          token_secret)
       SELECT 'cus_demo_' || lpad(g::text, 7, '0'), 'Demo member ' || g,
              'demo' || lpad(g::text, 7, '0') || '@example.org', false, now(),
              replace(gen_random_uuid()::text, '-', '')
       FROM generate_series(0, :count - 1) g""",
    """INSERT INTO memberships (user_id, stripe_subscription_id, status, interval, interval_count,
                                amount, currency, cancel_at_period_end, started_at,
                                current_period_end, fact_at, grace_expired, created_at,
                                updated_at)
       SELECT id, 'sub_demo_' || substr(stripe_customer_id, 10), 'active',
              CASE WHEN id % 4 = 0 THEN 'year' ELSE 'month' END, 1,
              CASE WHEN id % 4 = 0 THEN (ARRAY[5000, 8000, 15000])[id % 3 + 1]
                   ELSE (ARRAY[500, 800, 1500, 2500])[id % 4 + 1] END,
              (ARRAY['usd', 'eur', 'gbp'])[id % 3 + 1], false,
              now() - (id % 120) * interval '1 day',
              now() - (id % 120) * interval '1 day'
                  + CASE WHEN id % 4 = 0 THEN interval '365 days' ELSE interval '30 days' END,
              now() - (id % 120) * interval '1 day', false, now(), now()
       FROM users WHERE stripe_customer_id LIKE 'cus_demo_%'""",
    """INSERT INTO donations (stripe_invoice_id, stripe_customer_id, stripe_subscription_id,
                              user_id, kind, amount, fee_amount, currency, paid_at, created_at)
       SELECT 'in_demo_' || substr(stripe_subscription_id, 10),
              'cus_demo_' || substr(stripe_subscription_id, 10), stripe_subscription_id,
              user_id, 'membership_first', amount, 0, currency, started_at, now()
       FROM memberships WHERE stripe_subscription_id LIKE 'sub_demo_%'""",
    """INSERT INTO member_changes (user_id, membership_id, delta, occurred_at, recorded_at)
       SELECT user_id, id, 1, started_at, now() FROM memberships
       WHERE stripe_subscription_id LIKE 'sub_demo_%'""",
)


def seed_members_fast(count: int) -> None:
    """Demo members 0..count-1 on an empty PostgreSQL database, then the counter and totals."""
    from donations.extensions import db
    from donations.membership import totals
    from donations.membership.progress import move_counter, recount_members

    for statement in PG_MEMBERS:
        db.session.execute(text(statement), {"count": count})
    move_counter(to=recount_members())
    totals.rebuild()
    db.session.commit()
    # Leave nothing for autovacuum or the checkpointer to do while the pages are measured:
    # after millions of new rows both would otherwise take a core for a while.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))


MEMBER_EMAIL = "member@bench.example"
MEMBER_NAME = "Bench Member"
# Not a secret: the bench database is dropped after every run.
MEMBER_PASSWORD = "bench member password"  # noqa: S105


def give_a_member_a_login(members: int) -> None:
    """Let one seeded member (the middle one, so no index edge favours it) log in."""
    from sqlalchemy import update

    from donations.accounts.passwords import hash_password
    from donations.extensions import db
    from donations.models import User

    customer = f"cus_demo_{members // 2:07d}"
    changed = db.session.execute(
        update(User)
        .where(User.stripe_customer_id == customer)
        .values(email=MEMBER_EMAIL, name=MEMBER_NAME, password_hash=hash_password(MEMBER_PASSWORD))
    ).rowcount
    if changed != 1:
        raise SystemExit(f"no seeded member {customer} to log in as")
    db.session.commit()


def main(argv: list[str] | None = None) -> int:
    """Recreate the database, migrate it and seed it; print a report (JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a bench* SQLite or PostgreSQL URL")
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--words", type=int, default=1500, help="target words per article")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--members", type=int, default=0, help="synthetic members (rows in users, memberships)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--app-root", type=Path, default=ROOT, help="the checkout to import")
    args = parser.parse_args(argv)
    # The project is not installed into the venv; import it from the checkout being measured.
    sys.path.insert(0, str(args.app_root.resolve()))

    from flask_migrate import upgrade

    from donations import create_app

    create_database(args.database_url)
    app = create_app({"DATABASE_URL": args.database_url, "APP_ENV": "production",
                      "SECRET_KEY": os.urandom(32).hex(), "STRIPE_SECRET_KEY": "",
                      "STRIPE_EMULATOR": "1"})  # fmt: skip
    with app.app_context():
        upgrade()
        report = seed_articles(args.articles, args.words, args.seed)
        from donations.extensions import db
        from donations.membership.demo import seed_members

        if args.members and db.engine.dialect.name == "postgresql":
            seed_members_fast(args.members)
            report = replace(report, members=args.members)
        elif args.members:
            # The same bulk path as `seed-demo --members`: real rows, counter = recount.
            seed_members(args.members)
            db.session.commit()
            report = replace(report, members=args.members)
        if args.members:
            give_a_member_a_login(args.members)
            report = replace(report, member_email=MEMBER_EMAIL, member_name=MEMBER_NAME)
        db.engine.dispose()
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(
            f"seeded {report.articles} articles, ~{report.mean_words} words each, "
            f"in {report.seconds}s; sample: /articles/{report.sample_slug}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
