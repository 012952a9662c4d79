"""Supporters for staff: search and filters, one supporter's records, and the CSV rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import aliased

from donations.core.inputs import InvalidInput, choice_arg
from donations.extensions import db
from donations.models import (
    MEMBERSHIP_INTERVALS,
    SUBSCRIPTION_STATUSES,
    Donation,
    FailedPayment,
    Membership,
    StripeEvent,
    User,
)
from donations.money import is_currency, plain
from donations.pagination import paginate
from donations.staff.csvexport import StreamedRows

PER_PAGE = 50
STATUS_FILTERS = ("member", "none", *SUBSCRIPTION_STATUSES)
EVENTS_LIMIT = 100
CSV_BATCH = 1000


@dataclass(frozen=True)
class MemberFilters:
    """What staff searched for; empty strings mean "any"."""

    q: str = ""
    status: str = ""
    interval: str = ""
    currency: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> MemberFilters:
        """Read filters from query arguments; a value we don't know is a 400 (InvalidInput)."""
        code = (args.get("currency") or "").strip().lower()
        if code and not is_currency(code):
            # Any ISO 4217 code: members may pay in currencies this site never offered.
            raise InvalidInput("“currency” must be an ISO 4217 code, for example usd.")
        return cls(
            q=args.get("q", "").strip()[:200],
            status=choice_arg(args, "status", STATUS_FILTERS),
            interval=choice_arg(args, "interval", MEMBERSHIP_INTERVALS),
            currency=code,
        )

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, for links that keep them (pages, CSV)."""
        return {k: v for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class SupporterRow:
    """One line of the list: the supporter and a summary of their memberships."""

    user: User
    memberships: list[Membership]

    @property
    def is_member(self) -> bool:
        """True with at least one membership in a member status."""
        return any(m.is_member for m in self.memberships)


@dataclass(frozen=True)
class SupporterDetail:
    """Everything we hold about one supporter, and the webhook events that touched them."""

    user: User
    memberships: list[Membership]
    donations: list[Donation]
    failed_payments: list[FailedPayment]
    events: list[StripeEvent] = field(default_factory=list)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(filters: MemberFilters) -> Select:
    """The SELECT of supporters matching the filters, newest first."""
    stmt = select(User)
    q = filters.q
    if q.startswith("cus_"):
        stmt = stmt.where(User.stripe_customer_id == q)
    elif q.startswith("sub_"):
        stmt = stmt.where(
            exists().where(Membership.user_id == User.id, Membership.stripe_subscription_id == q)
        )
    elif q:
        pattern = _like(q.lower())
        stmt = stmt.where(
            or_(
                User.email.like(pattern, escape="\\"),
                func.lower(User.billing_email).like(pattern, escape="\\"),
                func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    if filters.status == "none":
        stmt = stmt.where(~exists().where(Membership.user_id == User.id))
    conditions = [Membership.user_id == User.id]
    if filters.status == "member":
        conditions.append(Membership.is_member)
    elif filters.status in SUBSCRIPTION_STATUSES:
        conditions.append(Membership.status == filters.status)
    if filters.interval:
        conditions.append(Membership.interval == filters.interval)
    if filters.currency:
        conditions.append(Membership.currency == filters.currency)
    if len(conditions) > 1:
        # One membership must match every membership filter at once.
        stmt = stmt.where(exists().where(*conditions))
    return stmt.order_by(User.id.desc())


def search(filters: MemberFilters, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """One page of matching supporters (as SupporterRows) with their memberships."""
    listing = paginate(filtered(filters), page, per_page)
    users: list[User] = listing.items
    by_user: dict[int, list[Membership]] = {u.id: [] for u in users}
    if users:
        for m in db.session.scalars(
            select(Membership).where(Membership.user_id.in_(by_user)).order_by(Membership.id)
        ):
            by_user[m.user_id].append(m)
    # One more query for every membership of the page, instead of one per supporter.
    listing.items = [SupporterRow(u, by_user[u.id]) for u in users]
    return listing


def supporter_detail(user_id: int) -> SupporterDetail | None:
    """One supporter's memberships, donations (with refunds), failures and events."""
    user = db.session.get(User, user_id)
    if user is None:
        return None
    memberships = list(
        db.session.scalars(
            select(Membership).where(Membership.user_id == user_id).order_by(Membership.id.desc())
        )
    )
    donations = list(
        db.session.scalars(
            select(Donation).where(Donation.user_id == user_id).order_by(Donation.paid_at.desc())
        )
    )
    sub_ids = [m.stripe_subscription_id for m in memberships]
    failed = (
        list(
            db.session.scalars(
                select(FailedPayment)
                .where(FailedPayment.stripe_subscription_id.in_(sub_ids))
                .order_by(FailedPayment.failed_at.desc())
            )
        )
        if sub_ids
        else []
    )
    return SupporterDetail(
        user=user,
        memberships=memberships,
        donations=donations,
        failed_payments=failed,
        events=_events_for(user, memberships, donations, failed),
    )


def _events_for(
    user: User,
    memberships: list[Membership],
    donations: list[Donation],
    failed: list[FailedPayment],
) -> list[StripeEvent]:
    """Ledger events about this supporter: by customer id, or by the id of one of their objects."""
    ids = {m.stripe_subscription_id for m in memberships} | {f.stripe_invoice_id for f in failed}
    for d in donations:
        ids |= {
            d.stripe_invoice_id,
            d.stripe_payment_intent_id,
            d.stripe_checkout_session_id,
        }
        if d.adjustment is not None:
            ids.add(d.adjustment.stripe_charge_id)
    ids.discard(None)
    conditions = []
    if user.stripe_customer_id:
        conditions.append(StripeEvent.customer_id == user.stripe_customer_id)
    if ids:
        conditions.append(StripeEvent.object_id.in_(sorted(i for i in ids if i)))
    if not conditions:
        return []
    return list(
        db.session.scalars(
            select(StripeEvent)
            .where(or_(*conditions))
            .order_by(StripeEvent.created.desc(), StripeEvent.id.desc())
            .limit(EVENTS_LIMIT)
        )
    )


CSV_HEADER = (
    "user_id",
    "email",
    "billing_email",
    "name",
    "stripe_customer_id",
    "member",
    "memberships",
    "created_at",
    # Of the supporter's newest membership; empty for someone who only gave once.
    "status",
    "interval",
    "interval_count",
    "amount",
    "currency",
)


def _major(minor: int | None, code: str | None) -> str:
    """Minor units as a plain decimal in major units ("8.00", "12.340", "1500")."""
    if minor is None or not code:
        return ""
    return plain(minor, code)


def csv_rows(filters: MemberFilters) -> StreamedRows:
    """The filtered supporters as CSV rows, from a cursor on a connection of their own.

    The query runs here, before the caller starts its response: a failure is an error page,
    not a 200 whose body stops after the header row. The caller closes the rows when its
    response is done (they close themselves once read to the end).
    """
    member = Membership.person_is_member(User.id).label("member")
    memberships = (
        select(func.count()).where(Membership.user_id == User.id).scalar_subquery().label("n")
    )
    newest = select(func.max(Membership.id)).where(Membership.user_id == User.id).scalar_subquery()
    # An alias, so that the correlated subqueries above still read the memberships table.
    latest = aliased(Membership, name="latest")
    base = (
        filtered(filters)
        .outerjoin(latest, latest.id == newest)
        .with_only_columns(
            User.id,
            User.email,
            User.billing_email,
            User.name,
            User.stripe_customer_id,
            member,
            memberships,
            User.created_at,
            latest.status,
            latest.interval,
            latest.interval_count,
            latest.amount,
            latest.currency,
            maintain_column_froms=True,
        )
    )
    # Not the request's session: the body is read after the view's app context has gone.
    return StreamedRows(db.engine, base, _csv_row, batch=CSV_BATCH)


def _csv_row(row) -> tuple[object, ...]:
    uid, email, billing, name, customer, is_member, count, created, *plan = row
    status, interval, interval_count, amount, currency = plan
    return (
        uid,
        email or "",
        billing or "",
        name or "",
        customer or "",
        "yes" if is_member else "no",
        count,
        created.isoformat() if isinstance(created, datetime) else "",
        status or "",
        interval or "",
        interval_count or "",
        _major(amount, currency),
        (currency or "").upper(),
    )
