"""One way to page a listing: Flask-SQLAlchemy's `db.paginate()`, clamped to the pages there are."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from donations.extensions import db


def paginate(stmt: Select, page: int, per_page: int) -> Pagination:
    """One page of `stmt` (two queries); a page past the end shows the last one."""
    # Stale links ("page 7" after rows were deleted) should land somewhere useful, not on
    # an empty page or a 404, so a page beyond the last is read as the last.
    result = db.paginate(stmt, page=max(1, page), per_page=per_page, error_out=False, count=True)
    if result.page > 1 and result.page > result.pages:
        result = db.paginate(stmt, page=max(1, result.pages), per_page=per_page, error_out=False)
    return result
