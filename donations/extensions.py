"""Flask extensions, created unbound and attached to the app in create_app()."""

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from donations.models.base import Base
from donations.ratelimit import client_key

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Storage comes from RATELIMIT_STORAGE_URI (Redis when REDIS_URL is set, else memory).
limiter = Limiter(key_func=client_key, default_limits=[])


@limiter.request_filter
def reads_are_not_limited() -> bool:
    """Every limit is on a write: a GET, HEAD or OPTIONS skips the limiter's work."""
    return request.method in ("GET", "HEAD", "OPTIONS")
