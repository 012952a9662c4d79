"""One way to page a listing: the `page` argument, and Flask-SQLAlchemy's `db.paginate()`.

A page that is not a whole number of 1 or more is a 400; a page past the last is a 404, as
`paginate(error_out=True)` answers (page 1 of an empty listing is still a page). Answering
some other page instead would show a link's reader rows they did not ask for.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from donations.core.inputs import InvalidInput
from donations.extensions import db

# Far beyond any listing here; keeps `?page=9223372036854775807` from overflowing the OFFSET.
MAX_PAGE = 1_000_000


def page_number(args: Mapping[str, str]) -> int:
    """The `page` query argument: absent or empty → 1; anything but a whole number ≥ 1 → 400."""
    raw = (args.get("page") or "").strip()
    if not raw:
        return 1
    digits = raw.lstrip("0")
    if not raw.isascii() or not raw.isdigit() or not digits:
        raise InvalidInput("“page” must be a whole number, 1 or more.")
    # Past MAX_PAGE is past the last page of every listing: the 404 paginate() would give.
    return MAX_PAGE + 1 if len(digits) > len(str(MAX_PAGE)) else min(int(digits), MAX_PAGE + 1)


def paginate(stmt: Select, page: int, per_page: int) -> Pagination:
    """One page of `stmt` (two queries); a page past the last one is a 404."""
    if page > MAX_PAGE:
        abort(404)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=True, count=True)
