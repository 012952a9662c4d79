"""One way to page a listing: Flask-SQLAlchemy's `db.paginate()`, clamped to the pages there are."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from donations.extensions import db

# Far beyond any listing here; keeps `?page=9223372036854775807` from overflowing the OFFSET.
MAX_PAGE = 1_000_000


def paginate(stmt: Select, page: int, per_page: int) -> Pagination:
    """One page of `stmt` (two queries); a page past the end shows the last one."""
    # Stale links ("page 7" after rows were deleted) should land somewhere useful, not on
    # an empty page or a 404, so a page beyond the last is read as the last.
    page = min(max(1, page), MAX_PAGE)
    result = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    if result.page > 1 and result.page > result.pages:
        result = db.paginate(stmt, page=max(1, result.pages), per_page=per_page, error_out=False)
    return result
