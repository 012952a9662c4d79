"""Rate limits on the account forms: per client IP and per account (the submitted email).

Only POSTs count. Counts live in Redis when REDIS_URL is set, else in process memory.
"""

from __future__ import annotations

from flask import request

from donations.accounts.services import email_key
from donations.extensions import limiter
from donations.ratelimit import client_key, hashed

LOGIN_PER_IP = "10 per minute; 100 per hour"
LOGIN_PER_EMAIL = "5 per minute; 30 per hour"
SIGNUP_PER_IP = "5 per minute; 30 per hour"
SIGNUP_PER_EMAIL = "3 per minute"
FORGOT_PER_IP = "5 per minute; 30 per hour"
FORGOT_PER_EMAIL = "3 per 15 minutes; 10 per day"
RESET_PER_IP = "10 per minute; 50 per hour"


# Longer than any address (RFC 5321: 254); beyond it, the raw text is hashed unparsed, so a
# megabyte "email" costs a hash, not an address validation, before the 429.
EMAIL_KEY_MAX = 320


def submitted_email() -> str:
    """Rate-limit key for the account named in the form (the normalised email, hashed)."""
    raw = request.form.get("email", "")
    email = email_key(raw) if len(raw) <= EMAIL_KEY_MAX else raw[:EMAIL_KEY_MAX].strip().lower()
    # Blank or missing: fall back to the client, so one bucket isn't shared by everyone.
    return hashed("email", email) if email else client_key()


def per_ip(limit: str):
    """Limit POSTs to the decorated view per client IP."""
    return limiter.limit(limit, key_func=client_key, methods=["POST"])


def per_email(limit: str):
    """Limit POSTs to the decorated view per submitted email address."""
    return limiter.limit(limit, key_func=submitted_email, methods=["POST"])
