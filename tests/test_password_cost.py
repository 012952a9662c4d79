"""The test suite's cheap password hash must never reach a real site: only TESTING honours it."""

from __future__ import annotations

import secrets

import pytest

from donations import create_app
from donations.accounts.passwords import hash_password, verify_password
from tests.conftest import base_config

FULL_COST = 2**15  # werkzeug's scrypt N; about a quarter of a second a hash


def _scrypt_n(password_hash: str) -> int:
    method = password_hash.split("$", 1)[0]
    name, n, _r, _p = method.split(":")
    assert name == "scrypt", password_hash
    return int(n)


def test_outside_an_app_hashes_are_full_cost_scrypt():
    assert _scrypt_n(hash_password("a fine passphrase")) >= FULL_COST


@pytest.mark.parametrize("app_env", ["production", "development"])
def test_an_app_that_is_not_testing_ignores_the_cheap_setting(tmp_path, monkeypatch, app_env):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    settings = {
        **base_config(tmp_path),  # PASSWORD_HASH_METHOD is cheap here, on purpose
        "TESTING": False,
        "APP_ENV": app_env,
        "STRIPE_EMULATOR": "1",  # production needs Stripe or the emulator to start
        "SECRET_KEY": secrets.token_hex(32),  # and a key no one can guess
    }
    app = create_app(settings)
    try:
        with app.app_context():
            stored = hash_password("a fine passphrase")
    finally:
        app.extensions["stripe_emulator"].close()
    assert _scrypt_n(stored) >= FULL_COST
    assert verify_password(stored, "a fine passphrase")


def test_the_default_settings_hash_at_full_cost(tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "STRIPE_EMULATOR_DB": str(tmp_path / "emulator.sqlite3"),
        }
    )
    try:
        with app.app_context():
            stored = hash_password("a fine passphrase")
    finally:
        app.extensions["stripe_emulator"].close()
    assert _scrypt_n(stored) >= FULL_COST


def test_the_test_suite_hashes_cheaply_and_still_verifies(app):
    stored = hash_password("a fine passphrase")
    assert _scrypt_n(stored) < FULL_COST
    assert verify_password(stored, "a fine passphrase")
    assert not verify_password(stored, "a fine passphrasE")
