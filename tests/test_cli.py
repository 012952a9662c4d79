"""flask commands: seed-demo and articles import."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from donations import create_app
from donations.core.words import count_of
from donations.models import Article
from tests.conftest import base_config

GOOD = """---
title: "A good story"
slug: a-good-story
date: 2026-11-02T10:00:00Z
author: Nadia Field
summary: "Summary here."
published: true
---
## Body heading

Body text with a [link](https://example.org).
"""


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Article))


def test_seed_demo_creates_articles_and_is_idempotent(runner, db):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    count = _count(db)
    assert count >= 6
    published = db.session.scalars(select(Article).where(Article.published.is_(True))).all()
    assert len(published) >= 6
    assert all("<h2>" in a.body_html and "<blockquote>" in a.body_html for a in published)
    assert all(len(a.body_markdown.split()) > 500 for a in published)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert f"0 articles created, {count} already there" in second.output
    assert _count(db) == count


def test_seed_demo_never_overwrites_an_edited_article(runner, db):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    article = db.session.scalars(select(Article).order_by(Article.id)).first()
    article.title = "Edited by the newsroom"
    db.session.commit()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Article, article.id).title == "Edited by the newsroom"


def test_import_creates_then_updates_by_slug(runner, db, tmp_path):
    path = tmp_path / "story.md"
    path.write_text(GOOD)
    result = runner.invoke(args=["articles", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created  a-good-story" in result.output
    path.write_text(GOOD.replace("A good story", "A better story"))
    again = runner.invoke(args=["articles", "import", str(tmp_path)])
    assert "updated  a-good-story" in again.output
    db.session.expire_all()
    article = db.session.scalar(select(Article).where(Article.slug == "a-good-story"))
    assert article.title == "A better story"
    assert _count(db) == 1
    assert article.published_at.isoformat() == "2026-11-02T10:00:00+00:00"


def test_import_reports_bad_files_by_name_and_imports_the_rest(runner, db, tmp_path):
    (tmp_path / "good.md").write_text(GOOD)
    (tmp_path / "no-front-matter.md").write_text("# Just a heading\n")
    (tmp_path / "broken-yaml.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    (tmp_path / "missing-keys.md").write_text("---\ntitle: x\nslug: x\n---\nbody\n")
    (tmp_path / "bad-slug.md").write_text(GOOD.replace("a-good-story", "Bad Slug!"))
    result = runner.invoke(args=["articles", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert "1 created, 0 updated, 4 failed." in result.output
    assert "FAILED   no-front-matter.md: no front-matter block" in result.output
    assert "FAILED   broken-yaml.md: front matter is not valid YAML" in result.output
    assert "FAILED   missing-keys.md: front matter is missing: date, author" in result.output
    assert "FAILED   bad-slug.md: slug must be" in result.output
    assert _count(db) == 1


def test_import_of_an_empty_folder_says_so(runner, db, tmp_path):
    result = runner.invoke(args=["articles", "import", str(tmp_path)])
    assert result.exit_code != 0
    assert "no .md files found" in result.output


def test_seed_demo_members_are_counted_once_and_idempotent(runner, db):
    from donations.membership.progress import get_progress, recount_members
    from donations.models import MemberChange, Membership

    first = runner.invoke(args=["seed-demo", "--members", "120"])
    assert first.exit_code == 0, first.output
    assert "Demo members: 120 added; 120 members in all." in first.output
    again = runner.invoke(args=["seed-demo", "--members", "120"])
    assert "Demo members: 0 added; 120 members in all." in again.output
    more = runner.invoke(args=["seed-demo", "--members", "150"])
    assert "Demo members: 30 added; 150 members in all." in more.output
    db.session.expire_all()
    assert get_progress().members == 150 == recount_members()
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 150
    assert db.session.scalar(select(func.sum(MemberChange.delta))) == 150


def test_seed_demo_refuses_a_negative_member_count(runner, db):
    result = runner.invoke(args=["seed-demo", "--members", "-1"])
    assert result.exit_code != 0 and "-1" in result.output


def test_flask_shell_starts_with_db_and_every_model(app):
    from donations.extensions import db as extension_db
    from donations.models import Base

    context = app.make_shell_context()
    assert context["db"] is extension_db
    for mapper in Base.registry.mappers:
        assert context[mapper.class_.__name__] is mapper.class_
    assert {"User", "Membership", "Donation", "StripeEvent"} <= context.keys()


DEAD_DATABASES = {
    "postgresql": (
        "postgresql+psycopg://nobody:s3cret-pw@127.0.0.1:1/x",
        "postgresql+psycopg://nobody@127.0.0.1:1/x",
    ),
    "sqlite": ("sqlite:////no/such/directory/x.sqlite3", "sqlite:////no/such/directory/x.sqlite3"),
}


@pytest.mark.parametrize("engine", sorted(DEAD_DATABASES))
@pytest.mark.parametrize(
    "args",
    [
        ["webhooks", "backlog"],
        ["stripe", "sync", "--dry-run"],
        ["members", "expire-grace"],
        ["seed-demo"],
    ],
)
def test_commands_answer_an_unreachable_database_in_one_line_without_the_password(
    tmp_path, engine, args
):
    url, shown = DEAD_DATABASES[engine]
    app = create_app({**base_config(tmp_path), "DATABASE_URL": url})
    with app.app_context():  # as `flask` gives every command, plain click ones too
        result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith(f"donations: cannot connect to the database {shown}: ")
    assert "Traceback" not in result.output
    assert "s3cret-pw" not in result.output


def test_a_query_error_on_a_reachable_database_is_not_called_unreachable(tmp_path):
    # An empty SQLite file: the connection works, the query fails (no such table).
    app = create_app(
        {**base_config(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    )
    result = app.test_cli_runner().invoke(args=["webhooks", "backlog"])
    assert isinstance(result.exception, OperationalError)
    assert "cannot connect" not in result.output


@pytest.mark.parametrize(
    ("examined", "line"),
    [(0, "Read 0 Stripe objects; "), (1, "Read 1 Stripe object; "), (2, "Read 2 Stripe objects; ")],
)
def test_stripe_sync_counts_objects_in_good_english(runner, monkeypatch, examined, line):
    import donations.payments.cli as payments_cli
    from donations.payments.sync import SyncReport

    def fake_sync(gateway, **kwargs):
        return SyncReport(dry_run=True, examined=examined)

    monkeypatch.setattr(payments_cli, "run_sync", fake_sync)
    result = runner.invoke(args=["stripe", "sync", "--dry-run"])
    assert line in result.output


def test_webhook_backlog_counts_one_event_as_one(runner, db):
    assert runner.invoke(args=["webhooks", "backlog"]).output.startswith("0 events waiting")
    assert count_of(1, "event") == "1 event" and count_of(1234, "event") == "1,234 events"
