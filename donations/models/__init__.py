"""All models, importable from one place (Alembic autogenerate reads this)."""

from donations.models.articles import Article
from donations.models.base import Base, UTCDateTime, utcnow
from donations.models.users import User

__all__ = ["Article", "Base", "UTCDateTime", "User", "utcnow"]
