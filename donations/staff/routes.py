"""The staff area. Every route here is for staff only."""

from __future__ import annotations

from flask import Blueprint, render_template

from donations.staff.guard import refuse_non_staff, staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")
# Guard the whole blueprint, so a route added later without the decorator stays protected.
bp.before_request(refuse_non_staff)


@bp.get("/")
@staff_required
def index():
    """The staff dashboard (a placeholder until the dashboard is built)."""
    return render_template("staff/index.html")
