"""The staff blueprint, guarded as a whole: every route added to it is for staff only."""

from __future__ import annotations

from flask import Blueprint

from donations.staff.guard import refuse_non_staff

bp = Blueprint("staff", __name__, url_prefix="/staff")
# Guard the whole blueprint, so a route added later without the decorator stays protected.
bp.before_request(refuse_non_staff)
