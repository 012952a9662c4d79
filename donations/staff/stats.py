"""Dashboard numbers: pure query functions returning dataclasses (no request code here).

Every function runs a fixed, small number of queries, whatever the size of the data, and
each query is served by an index (see the models and migration 0003).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, case, cast, func, select

from donations.extensions import db
from donations.membership.progress import Progress, get_progress
from donations.models import MemberChange
from donations.payments.backlog import Backlog, webhook_backlog
from donations.staff.events import VersionDrift, other_api_versions
from donations.staff.stats_money import (
    GiftTotal,
    Revenue,
    gifts_since,
    membership_payments_since,
    recurring_revenue,
)
from donations.staff.stats_people import (
    ArticleSource,
    PastDueList,
    SyncSummary,
    last_sync,
    past_due,
    sources_since,
)
from donations.staff.stats_settled import Settlement, settled_since

CHART_RANGES = (30, 90, 365)
DEFAULT_RANGE = 90
MOVEMENT_WINDOWS = (("Today", 1), ("7 days", 7), ("30 days", 30))
CHURN_DAYS = 30


@dataclass(frozen=True)
class DayPoint:
    """Members at the end of one UTC day, and who joined and left that day."""

    day: date
    members: int
    joined: int
    left: int


@dataclass(frozen=True)
class Movement:
    """New members and lapses over a window of whole UTC days ending today."""

    label: str
    since: datetime
    joined: int
    left: int

    @property
    def net(self) -> int:
        """Joined minus left."""
        return self.joined - self.left


@dataclass(frozen=True)
class Churn:
    """Members lost in the window divided by members at its start."""

    since: datetime
    lost: int
    at_start: int

    @property
    def rate(self) -> float | None:
        """Percent lost, one decimal; None when nobody was a member at the start."""
        return round(self.lost * 100 / self.at_start, 1) if self.at_start else None

    @property
    def label(self) -> str:
        """The rate in words: never "0.0%" beside members lost (1 of 12,431 is "0.008%")."""
        if not self.at_start:
            return "—"
        exact = self.lost * 100 / self.at_start
        if self.lost and round(exact, 1) == 0:
            return f"{exact:.2g}%" if exact >= 0.001 else "<0.001%"
        return f"{round(exact, 1)}%"


@dataclass(frozen=True)
class MemberHistory:
    """The daily series for the chart, the movement windows and the churn rate."""

    points: list[DayPoint]
    movements: list[Movement]
    churn: Churn


@dataclass(frozen=True)
class Dashboard:
    """Everything the staff dashboard shows, computed for one moment."""

    now: datetime
    range_days: int
    progress: Progress
    history: MemberHistory
    revenue: Revenue
    gifts: list[GiftTotal]
    membership_payments: list[GiftTotal]
    settled: Settlement
    past_due: PastDueList
    sources: list[ArticleSource]
    last_sync: SyncSummary | None
    api_versions: list[VersionDrift]
    webhooks: Backlog

    @property
    def projection(self) -> Projection:
        """When the goal is reached at the last 30 days' pace."""
        month = self.history.movements[-1]
        return project(self.progress.members, self.progress.goal, month.net, self.now)


@dataclass(frozen=True)
class Projection:
    """The goal's date at the recent pace: a date, or why there is none."""

    pace_per_day: float
    reached_on: date | None  # None: reached already, or not getting closer
    reached: bool


def project(members: int, goal: int, net_30_days: int, now: datetime) -> Projection:
    """At net_30_days' pace, the day `members` reaches `goal` (None if it never does)."""
    pace = net_30_days / 30
    if members >= goal:
        return Projection(pace, None, True)
    if pace <= 0:
        return Projection(pace, None, False)
    return Projection(pace, (now + timedelta(days=(goal - members) / pace)).date(), False)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of a day, as an aware datetime."""
    return datetime.combine(day, time(), tzinfo=UTC)


def _day_of(column):
    # Bucket by UTC calendar day in SQL: a day's facts are summed by the database, not here.
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def daily_changes(since: datetime) -> dict[date, tuple[int, int]]:
    """(joined, left) per UTC day for member changes at or after `since` (one query)."""
    day = _day_of(MemberChange.occurred_at).label("day")
    rows = db.session.execute(
        select(
            day,
            func.sum(case((MemberChange.delta > 0, 1), else_=0)),
            func.sum(case((MemberChange.delta < 0, 1), else_=0)),
        )
        .where(MemberChange.occurred_at >= since)
        .group_by(day)
    ).all()
    return {_as_date(d): (int(joined or 0), int(left or 0)) for d, joined, left in rows}


def member_history(now: datetime, days: int, members_now: int) -> MemberHistory:
    """Members at the end of each of the last `days` UTC days, movements and 30-day churn.

    The count at the end of day D is the sum of all deltas before then. The live counter
    equals the sum of every delta (both are written in one transaction), so only the
    window's changes are read: members_now minus everything that happened after D.
    """
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=max(days, CHURN_DAYS) - 1)
    changes = daily_changes(day_start(first))
    running = members_now - sum(j - left for j, left in changes.values())
    ends: dict[date, int] = {}
    for offset in range((today - first).days + 1):
        day = first + timedelta(days=offset)
        joined, left = changes.get(day, (0, 0))
        running += joined - left
        ends[day] = running
    chart_first = today - timedelta(days=days - 1)
    points = [
        DayPoint(d, ends[d], *changes.get(d, (0, 0))) for d in sorted(ends) if d >= chart_first
    ]
    movements = []
    for label, width in MOVEMENT_WINDOWS:
        window = [changes.get(today - timedelta(days=i), (0, 0)) for i in range(width)]
        movements.append(
            Movement(
                label=label,
                since=day_start(today - timedelta(days=width - 1)),
                joined=sum(j for j, _ in window),
                left=sum(left for _, left in window),
            )
        )
    churn_first = today - timedelta(days=CHURN_DAYS - 1)
    joined_first, left_first = changes.get(churn_first, (0, 0))
    at_start = ends[churn_first] - joined_first + left_first
    return MemberHistory(
        points=points,
        movements=movements,
        churn=Churn(since=day_start(churn_first), lost=movements[-1].left, at_start=at_start),
    )


def parse_range(value: str | None) -> int:
    """The chart range in days from a query value; anything unknown gives the default."""
    return int(value) if value and value.isdigit() and int(value) in CHART_RANGES else DEFAULT_RANGE


def dashboard(now: datetime, range_days: int = DEFAULT_RANGE) -> Dashboard:
    """Compute the whole dashboard for `now` (about a dozen indexed queries in all)."""
    progress = get_progress()
    month_ago = day_start(now.astimezone(UTC).date() - timedelta(days=CHURN_DAYS - 1))
    return Dashboard(
        now=now,
        range_days=range_days,
        progress=progress,
        history=member_history(now, range_days, progress.members),
        revenue=recurring_revenue(),
        gifts=gifts_since(month_ago),
        membership_payments=membership_payments_since(month_ago),
        settled=settled_since(month_ago),
        past_due=past_due(),
        sources=sources_since(month_ago),
        last_sync=last_sync(),
        api_versions=other_api_versions(now),
        webhooks=webhook_backlog(now),
    )
