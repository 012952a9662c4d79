"""Who is a member: queries over memberships (no request code here)."""

from __future__ import annotations

from sqlalchemy import exists, select

from donations.extensions import db
from donations.models import MEMBER_STATUSES, Membership


def has_active_membership(user_id: int) -> bool:
    """True when the supporter has a membership that makes them a member."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Membership.user_id == user_id, Membership.status.in_(MEMBER_STATUSES)
                )
            )
        )
    )
