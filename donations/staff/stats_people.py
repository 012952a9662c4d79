"""People and provenance on the dashboard: who is past due, which articles brought
supporters, and the last reconciliation run (pure queries)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, literal, select, union_all

from donations.extensions import db
from donations.models import (
    Article,
    Donation,
    FailedPayment,
    Membership,
    SubscriptionStatus,
    SyncRun,
    User,
)

PAST_DUE_LIMIT = 50
SOURCES_LIMIT = 20


@dataclass(frozen=True)
class PastDue:
    """A membership in Stripe's retry period, and since when a payment has been failing."""

    membership_id: int
    user_id: int
    email: str | None
    name: str
    subscription_id: str
    amount: int
    currency: str
    interval: str
    interval_count: int
    since: datetime | None
    current_period_end: datetime | None


@dataclass(frozen=True)
class PastDueList:
    """The first past-due memberships (soonest period end first) and how many there are."""

    total: int
    items: list[PastDue]


@dataclass(frozen=True)
class ArticleSource:
    """An article readers came from: new memberships and gifts in the window."""

    slug: str
    title: str | None
    memberships: int
    gifts: int

    @property
    def total(self) -> int:
        """Memberships plus gifts."""
        return self.memberships + self.gifts


@dataclass(frozen=True)
class SyncSummary:
    """The newest `stripe sync` run as staff see it."""

    started_at: datetime
    finished_at: datetime | None
    dry_run: bool
    examined: int
    changed: int
    error: str | None
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)


def past_due(limit: int = PAST_DUE_LIMIT) -> PastDueList:
    """Past-due memberships with their supporter, oldest unpaid failure as `since` (2 queries)."""
    # Failures of invoices later paid are history, not the reason it is past due now.
    unpaid = (
        ~select(Donation.id)
        .where(Donation.stripe_invoice_id == FailedPayment.stripe_invoice_id)
        .exists()
    )
    since = (
        select(func.min(FailedPayment.created_at))
        .where(
            FailedPayment.stripe_subscription_id == Membership.stripe_subscription_id,
            unpaid,
        )
        .scalar_subquery()
    )
    where = Membership.status == SubscriptionStatus.PAST_DUE
    total = db.session.scalar(select(func.count()).select_from(Membership).where(where)) or 0
    rows = db.session.execute(
        select(Membership, User.email, User.billing_email, User.name, since)
        .join(User, User.id == Membership.user_id)
        .where(where)
        .order_by(Membership.current_period_end, Membership.id)
        .limit(limit)
    ).all()
    items = [
        PastDue(
            membership_id=m.id,
            user_id=m.user_id,
            email=email or billing_email,
            name=name,
            subscription_id=m.stripe_subscription_id,
            amount=m.amount,
            currency=m.currency,
            interval=m.interval,
            interval_count=m.interval_count,
            since=first_failure or m.fact_at,
            current_period_end=m.current_period_end,
        )
        for m, email, billing_email, name, first_failure in rows
    ]
    return PastDueList(total=total, items=items)


def sources_since(since: datetime, limit: int = SOURCES_LIMIT) -> list[ArticleSource]:
    """Articles by new memberships and gifts since `since`, with titles (one query)."""
    # Checkout metadata carries the article onto the subscription and the gift's payment.
    joined = select(
        Membership.source_article.label("slug"),
        literal(1).label("memberships"),
        literal(0).label("gifts"),
    ).where(Membership.started_at >= since, Membership.source_article.is_not(None))
    gave = select(
        Donation.source_article.label("slug"),
        literal(0).label("memberships"),
        literal(1).label("gifts"),
    ).where(
        Donation.kind == "gift", Donation.paid_at >= since, Donation.source_article.is_not(None)
    )
    both = union_all(joined, gave).subquery()
    memberships = func.sum(both.c.memberships)
    gifts = func.sum(both.c.gifts)
    rows = db.session.execute(
        select(both.c.slug, Article.title, memberships, gifts)
        .outerjoin(Article, Article.slug == both.c.slug)
        .group_by(both.c.slug, Article.title)
        .order_by((memberships + gifts).desc(), both.c.slug)
        .limit(limit)
    ).all()
    return [ArticleSource(s, t, int(m or 0), int(g or 0)) for s, t, m, g in rows]


def last_sync() -> SyncSummary | None:
    """The newest reconciliation run, or None if sync never ran (one query)."""
    run = db.session.scalar(
        select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(1)
    )
    if run is None:
        return None
    try:
        summary = json.loads(run.summary or "{}")
    except ValueError:
        summary = {}
    return SyncSummary(
        started_at=run.started_at,
        finished_at=run.finished_at,
        dry_run=run.dry_run,
        examined=run.examined,
        changed=run.changed,
        error=run.error,
        counts=dict(summary.get("counts", {})),
        changes=list(summary.get("changes", []))[:10],
    )
