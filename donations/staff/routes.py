"""The staff area: dashboard, supporters, CSV export and the webhook ledger. Staff only."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from donations.core.inputs import choice_arg
from donations.extensions import db
from donations.models import MEMBERSHIP_INTERVALS, utcnow
from donations.pagination import page_number
from donations.payments.foreign import (
    NotForeign,
    adopt,
    get_foreign,
    list_foreign,
    recent_adoptions,
)
from donations.staff import article_views, stats
from donations.staff.chart import build_chart
from donations.staff.csvexport import csv_lines
from donations.staff.events import (
    EventFilters,
    ReplayRefused,
    UnknownEvent,
    get_event,
    list_events,
    pretty_payload,
    replay_failed,
)
from donations.staff.guard import refuse_non_staff, staff_required
from donations.staff.members import (
    CSV_HEADER,
    STATUS_FILTERS,
    MemberFilters,
    csv_rows,
    search,
    supporter_detail,
)

__all__ = ["bp"]

bp = Blueprint("staff", __name__, url_prefix="/staff")
# Guard the whole blueprint, so a route added later without the decorator stays protected.
bp.before_request(refuse_non_staff)


@bp.after_request
def _no_store(response: Response) -> Response:
    # Supporters' personal data (and the CSV of it): no browser history or proxy keeps a copy.
    response.headers["Cache-Control"] = "private, no-store"
    return response


# The article editor's views live in their own module; they are attached here, explicitly.
bp.add_url_rule("/articles", view_func=article_views.articles, methods=["GET"])
bp.add_url_rule("/articles/new", view_func=article_views.new_article, methods=["GET", "POST"])
bp.add_url_rule(
    "/articles/<int:article_id>", view_func=article_views.edit_article, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/articles/<int:article_id>/publish", view_func=article_views.publish_article, methods=["POST"]
)
bp.add_url_rule(
    "/articles/<int:article_id>/unpublish",
    view_func=article_views.unpublish_article,
    methods=["POST"],
)


@bp.get("/")
@staff_required
def index():
    """The dashboard: progress, movements, churn, money, lapsing members, sources, chart."""
    days = choice_arg(request.args, "range", [str(days) for days in stats.CHART_RANGES])
    board = stats.dashboard(utcnow(), stats.parse_range(days))
    chart = build_chart(board.history.points, board.progress.goal)
    return render_template("staff/index.html", board=board, chart=chart, ranges=stats.CHART_RANGES)


@bp.get("/members")
@staff_required
def members():
    """Supporters: search by email, name or Stripe id; filter by status, interval, currency."""
    filters = MemberFilters.from_args(request.args)
    listing = search(filters, page_number(request.args))
    return render_template(
        "staff/members.html",
        filters=filters,
        listing=listing,
        statuses=STATUS_FILTERS,
        intervals=MEMBERSHIP_INTERVALS,
    )


@bp.get("/members.csv")
@staff_required
def members_csv():
    """The filtered supporters as CSV, streamed row by row, in a file named by today's date."""
    filters = MemberFilters.from_args(request.args)
    rows = csv_rows(filters)
    name = f"supporters-{utcnow():%Y-%m-%d}.csv"
    response = Response(
        csv_lines(CSV_HEADER, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    # The rows hold a connection of their own: given back when the server closes the
    # response, also when the client goes away halfway.
    response.call_on_close(rows.close)
    return response


@bp.get("/members/<int:user_id>")
@staff_required
def member(user_id: int):
    """One supporter: memberships, donations with refunds, failures and webhook events."""
    detail = supporter_detail(user_id)
    if detail is None:
        abort(404)
    return render_template("staff/member.html", detail=detail)


@bp.get("/events")
@staff_required
def events():
    """The webhook ledger, newest first, filtered by type and status."""
    filters = EventFilters.from_args(request.args)
    listing = list_events(filters, page_number(request.args))
    return render_template("staff/events.html", filters=filters, listing=listing)


@bp.get("/events/<event_id>")
@staff_required
def event(event_id: str):
    """One ledger event with its payload as indented JSON."""
    row = get_event(event_id)
    if row is None:
        abort(404)
    return render_template(
        "staff/event.html",
        event=row,
        payload=pretty_payload(row),
        api_version=current_app.config["STRIPE_API_VERSION"],
    )


@bp.post("/events/<event_id>/replay")
@staff_required
def replay_event(event_id: str):
    """Process a failed event again from its stored payload; commit once and say how it went."""
    try:
        outcome = replay_failed(event_id, livemode=not current_app.config["STRIPE_TEST_MODE"])
    except UnknownEvent:
        abort(404)
    except ReplayRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.events"))
    db.session.commit()
    if outcome.status == "failed":
        flash(f"{event_id} failed again: {outcome.error}", "error")
    else:
        flash(f"{event_id} replayed: {outcome.status}.", "success")
    return redirect(url_for("staff.event", event_id=event_id))


@bp.get("/foreign")
@staff_required
def foreign():
    """Subscriptions and payments on a shared account that this site did not make."""
    listing = list_foreign(page_number(request.args))
    return render_template(
        "staff/foreign.html",
        listing=listing,
        adoptions=recent_adoptions(),
        shared=current_app.config["STRIPE_ACCOUNT_SHARED"],
    )


@bp.get("/foreign/<stripe_id>/adopt")
@staff_required
def confirm_adopt(stripe_id: str):
    """Ask before adopting: what will count from now on."""
    row = get_foreign(stripe_id)
    if row is None:
        abort(404)
    return render_template("staff/adopt.html", obj=row)


@bp.post("/foreign/<stripe_id>/adopt")
@staff_required
def adopt_foreign(stripe_id: str):
    """Make a foreign subscription or payment ours; its held events are applied once."""
    config = current_app.config
    try:
        done = adopt(
            stripe_id,
            current_user,
            livemode=not config["STRIPE_TEST_MODE"],
            installation=config["INSTALLATION_TAG"],
        )
    except NotForeign:
        abort(404)
    db.session.commit()
    flash(
        f"{done.kind.capitalize()} {stripe_id} is adopted and counts from now on "
        f"({done.events_applied} held events applied).",
        "success",
    )
    return redirect(url_for("staff.foreign"))
