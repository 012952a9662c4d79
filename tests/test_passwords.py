"""Password rules and hashing."""

from __future__ import annotations

import re

import pytest

from donations.accounts.passwords import (
    MIN_LENGTH,
    common_passwords,
    hash_password,
    password_problems,
    verify_password,
)


def test_the_common_password_list_is_large_and_has_long_entries():
    common = common_passwords()
    assert len(common) >= 2000
    assert sum(len(p) >= MIN_LENGTH for p in common) >= 1000
    for weak in ("password123", "1234567890", "qwertyuiop", "iloveyou123", "password"):
        assert weak in common


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "Use at least 10 characters (this one has 5)"),
        ("Password123", "list of very common passwords"),
        ("QWERTYUIOP", "list of very common passwords"),
        ("iloveyou123", "list of very common passwords"),
        ("1234567890", "list of very common passwords"),
        ("jane.doe@example.org", "Don't use your email address"),
        ("Jane.Doe@Example.org", "Don't use your email address"),
        ("jane.doe.reporter", "Don't use your email address"),
    ],
)
def test_weak_passwords_get_a_clear_message(password, expected):
    email = "jane.doe.reporter@example.org" if "reporter" in password else "jane.doe@example.org"
    problems = password_problems(password, email)
    assert any(expected in problem for problem in problems), problems


def test_a_short_common_password_gets_both_messages():
    problems = password_problems("password", "x@example.org")
    assert len(problems) == 2


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "tea at 4 in the garden", "Zx9!qLm2#vB8"]
)
def test_reasonable_passwords_pass(password):
    assert password_problems(password, "jane@example.org") == []


def test_hashes_are_salted_scrypt_and_verify():
    first, second = hash_password("a fine passphrase"), hash_password("a fine passphrase")
    assert first.startswith("scrypt:") and first != second
    assert verify_password(first, "a fine passphrase")
    assert not verify_password(first, "a fine passphrasE")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("tiny", "Use at least 10 characters"),
        ("password123", "list of very common passwords"),
        ("someone@example.org", "Don&#39;t use your email address"),
        ("someone", "Don&#39;t use your email address"),
    ],
)
def test_signup_shows_each_password_rule_next_to_the_field(client, db, password, message):
    response = client.post("/signup", data={"email": "someone@example.org", "password": password})
    assert response.status_code == 400
    errors = re.search(
        r'<div id="password-error">(.*?)</div>', response.get_data(as_text=True), re.S
    )
    assert errors is not None and message in errors.group(1)
