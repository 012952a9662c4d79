"""Rate limits on the account forms: per client IP and per account (the submitted email).

Only POSTs count. Counts live in Redis when REDIS_URL is set, else in process memory.
"""

from __future__ import annotations

from flask import request
from flask_limiter.util import get_remote_address

from donations.accounts.services import email_key
from donations.extensions import limiter

LOGIN_PER_IP = "10 per minute; 100 per hour"
LOGIN_PER_EMAIL = "5 per minute; 30 per hour"
SIGNUP_PER_IP = "5 per minute; 30 per hour"
SIGNUP_PER_EMAIL = "3 per minute"
FORGOT_PER_IP = "5 per minute; 30 per hour"
FORGOT_PER_EMAIL = "3 per 15 minutes; 10 per day"
RESET_PER_IP = "10 per minute; 50 per hour"


def submitted_email() -> str:
    """Rate-limit key for the account named in the form (the normalised email)."""
    email = email_key(request.form.get("email", ""))
    # Blank or missing: fall back to the client, so one bucket isn't shared by everyone.
    return f"email:{email}" if email else f"ip:{get_remote_address()}"


def per_ip(limit: str):
    """Limit POSTs to the decorated view per client IP."""
    return limiter.limit(limit, key_func=get_remote_address, methods=["POST"])


def per_email(limit: str):
    """Limit POSTs to the decorated view per submitted email address."""
    return limiter.limit(limit, key_func=submitted_email, methods=["POST"])
