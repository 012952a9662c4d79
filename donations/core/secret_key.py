"""Whether a production SECRET_KEY is strong enough to sign sessions and emailed links.

SECRET_KEY signs the session cookie, the password-reset and claim links, and (in emulator
mode) derives the webhook secret. A guessable one lets anyone forge all of them, so
production refuses a key that is short, a placeholder or a development default (design §4:
at least 32 characters, not a known placeholder). Standard library only: config reads it.
"""

from __future__ import annotations

import re

MIN_LENGTH = 32
# A long key of a few letters repeated ("x" * 40, "abab…") is a placeholder too.
MIN_DISTINCT = 10
# Compared with the key lowercased and stripped of everything but letters and digits, so
# "Change-Me", "change_me" and "CHANGEME!!" are one placeholder. A key that contains one of
# these words was written by a person to be replaced, or copied from a default.
PLACEHOLDER_WORDS = (
    "changeme",
    "changethis",
    "replaceme",
    "replacethis",
    "placeholder",
    "yoursecret",
    "secretkeyhere",
    "notforproduction",
    "notsecret",
    "insecure",
    "example",
    "dummy",
    "devsecret",
    "devkey",
    "developmentkey",
    "testsecret",
    "testkey",
)


def secret_key_problem(key: str | None) -> str | None:
    """Why `key` must not sign anything in production, or None when it may."""
    if not key or not key.strip():
        return "is empty"
    if key != key.strip():
        return "starts or ends with whitespace (a quoting mistake in the environment?)"
    if len(key) < MIN_LENGTH:
        return f"is {len(key)} characters long; production needs at least {MIN_LENGTH}"
    if len(set(key)) < MIN_DISTINCT:
        return "repeats a few characters; it is a placeholder, not a random key"
    plain = re.sub(r"[^a-z0-9]", "", key.lower())
    for word in PLACEHOLDER_WORDS:
        if word in plain:
            return f"looks like a placeholder (it contains {word!r})"
    return None


HOW_TO_MAKE_ONE = "make one with: python -c 'import secrets; print(secrets.token_hex(32))'"
