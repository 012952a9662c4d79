"""Password hashing (scrypt) and the few rules a person can live with."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10
# Far above any passphrase a person types; stops megabyte "passwords" from tying up a worker.
MAX_LENGTH = 1000
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# werkzeug's full-cost scrypt (N=2**15, r=8, p=1: about a quarter of a second a hash).
HASH_METHOD = "scrypt"


def hash_method() -> str:
    """The hashing method for new hashes: full-cost scrypt, except in a TESTING app that asks.

    The test suite sets PASSWORD_HASH_METHOD to a cheap scrypt so that it does not spend
    minutes hashing; outside TESTING the setting is ignored, so it can never weaken a real site.
    """
    if has_app_context() and current_app.testing:
        return current_app.config.get("PASSWORD_HASH_METHOD") or HASH_METHOD
    return HASH_METHOD


def hash_password(password: str) -> str:
    """Hash a password with scrypt and a random salt (werkzeug's format)."""
    return generate_password_hash(password, method=hash_method())


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored hash."""
    return check_password_hash(password_hash, password)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("an unused password that only equalises timing", method=method)


def burn_verification_time(password: str) -> None:
    """Do the work of one real check, so unknown emails take as long as known ones."""
    check_password_hash(_dummy_hash(hash_method()), password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lowercased."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, email: str = "") -> list[str]:
    """Every rule the password breaks, each as a sentence for the person; empty when fine."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(
            f"Use at least {MIN_LENGTH} characters (this one has {len(password)}). "
            "A few words in a row make a good password."
        )
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    folded = password.strip().lower()
    email = email.strip().lower()
    if email and folded in {email, email.partition("@")[0]}:
        problems.append("Don't use your email address (or the part before the @) as your password.")
    if folded in common_passwords():
        problems.append("That password is on a list of very common passwords. Choose another one.")
    return problems
