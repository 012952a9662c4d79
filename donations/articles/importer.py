"""Import Markdown files with a YAML front-matter block as articles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from sqlalchemy import select

from donations.articles.services import ArticleData, ArticleError, save_article
from donations.extensions import db
from donations.models import Article

REQUIRED = ("title", "slug", "date", "author", "summary", "published")


@dataclass
class ImportReport:
    """What an import did: slugs created and updated, and files refused with reasons."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # existing slugs left alone (keep_existing)
    failed: list[tuple[str, str]] = field(default_factory=list)


def _split_front_matter(text: str) -> tuple[dict, str]:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ArticleError("no front-matter block (the file must start with a line '---')")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            try:
                meta = yaml.safe_load("".join(lines[1:index])) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" on line {mark.line + 2}" if mark else ""
                raise ArticleError(f"front matter is not valid YAML{where}") from None
            if not isinstance(meta, dict):
                raise ArticleError("front matter must be a set of 'key: value' lines")
            return meta, "".join(lines[index + 1 :])
    raise ArticleError("front-matter block is not closed with a line '---'")


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ArticleError(f"date {value!r} is not an ISO 8601 date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise ArticleError(f"published must be true or false, got {value!r}")


def parse_article(text: str) -> ArticleData:
    """Turn one file's text into ArticleData, or raise ArticleError saying what is wrong."""
    meta, body = _split_front_matter(text)
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ArticleError(f"front matter is missing: {', '.join(missing)}")
    return ArticleData(
        slug=str(meta["slug"]).strip(),
        title=str(meta["title"]).strip(),
        summary=str(meta["summary"] or "").strip(),
        author=str(meta["author"] or "").strip(),
        published=_as_bool(meta["published"]),
        published_at=_as_datetime(meta["date"]),
        body_markdown=body.strip() + "\n",
    )


def markdown_files(path: Path) -> list[Path]:
    """List the .md files at a path (a file or a folder, searched recursively), sorted."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.md") if p.is_file())


def import_articles(paths: list[Path], *, keep_existing: bool = False) -> ImportReport:
    """Create or update (by slug) an article per file; a bad file never stops the rest.

    keep_existing: never touch an article that exists (seed-demo: someone may have edited it).
    """
    report = ImportReport()
    for path in paths:
        try:
            data = parse_article(path.read_text(encoding="utf-8"))
            if keep_existing and db.session.scalar(
                select(Article.id).where(Article.slug == data.slug)
            ):
                report.kept.append(data.slug)
                continue
            # A savepoint per file: one bad file rolls back only itself.
            with db.session.begin_nested():
                _, created = save_article(data)
        except (ArticleError, UnicodeDecodeError, OSError) as exc:
            report.failed.append((path.name, str(exc)))
            continue
        (report.created if created else report.updated).append(data.slug)
    return report
