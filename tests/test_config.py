"""Settings are read from the environment and bad ones stop start-up with one clear line."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from donations import ConfigError, create_app
from donations.core.truthy import is_true
from tests.conftest import base_config

ROOT = Path(__file__).resolve().parent.parent
# A key production accepts (core/secret_key.py): the suite's own says "not-for-production".
STRONG_KEY = secrets.token_hex(32)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "nosuchdb://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://u@h/db"}, "DATABASE_URL"),
        (
            {"STRIPE_SECRET_KEY": "sk_live_abc", "STRIPE_WEBHOOK_SECRET": "whsec_x"},
            "STRIPE_ALLOW_LIVE",
        ),
        ({"STRIPE_SECRET_KEY": "pk_test_abc"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "sk_test_abc", "STRIPE_WEBHOOK_SECRET": "abc"}, "WEBHOOK_SECRET"),
        (
            {"STRIPE_SECRET_KEY": "sk_test_abc", "STRIPE_WEBHOOK_SECRET": "whsec_a,b"},
            "STRIPE_WEBHOOK_SECRET",
        ),
        ({"MEMBERSHIP_GOAL": "lots"}, "MEMBERSHIP_GOAL"),
        ({"MEMBERSHIP_GOAL": "0"}, "MEMBERSHIP_GOAL"),
        ({"MEMBERSHIP_GOAL": "-5"}, "MEMBERSHIP_GOAL"),
        ({"MEMBERSHIP_GOAL": "2.5"}, "MEMBERSHIP_GOAL"),
        ({"DONATION_CURRENCIES": "usd,xyz"}, "DONATION_CURRENCIES"),
        ({"SITE_URL": "ftp://example.org"}, "SITE_URL"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"APP_ENV": "production", "SECRET_KEY": ""}, "SECRET_KEY"),
        ({"STRIPE_EMULATOR_DELIVERY": "shuffled"}, "STRIPE_EMULATOR_DELIVERY"),
        ({"STRIPE_EMULATOR_SEED": "lucky"}, "STRIPE_EMULATOR_SEED"),
        ({"STRIPE_ACCOUNT_SHARED": "shared"}, "STRIPE_ACCOUNT_SHARED"),
        ({"WEBHOOK_STUCK_SECONDS": "0"}, "WEBHOOK_STUCK_SECONDS"),
        ({"WEBHOOK_STUCK_SECONDS": "soon"}, "WEBHOOK_STUCK_SECONDS"),
        ({"WEBHOOK_WORKER_LIVENESS_SECONDS": "-1"}, "WEBHOOK_WORKER_LIVENESS_SECONDS"),
        ({"WEBHOOK_WORKER_LIVENESS_SECONDS": "2"}, "WEBHOOK_WORKER_LIVENESS_SECONDS"),
    ],
)
def test_bad_setting_is_refused_naming_it(tmp_path, overrides, named):
    with pytest.raises(ConfigError, match=named):
        create_app({**base_config(tmp_path), **overrides})


def test_live_key_is_accepted_only_with_explicit_permission(tmp_path):
    app = create_app(
        {
            **base_config(tmp_path),
            "STRIPE_SECRET_KEY": "sk_live_abc",
            "STRIPE_WEBHOOK_SECRET": "whsec_live",
            "STRIPE_ALLOW_LIVE": "1",
        }
    )
    assert app.config["STRIPE_EMULATOR"] is False
    assert app.config["STRIPE_TEST_MODE"] is False


def test_empty_stripe_key_means_emulator_with_a_stable_webhook_secret(tmp_path):
    first = create_app(base_config(tmp_path))
    second = create_app(base_config(tmp_path))
    assert first.config["STRIPE_EMULATOR"] is True
    assert first.config["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
    # Several processes (web workers, CLI) must agree on the secret the emulator signs with.
    assert first.config["STRIPE_WEBHOOK_SECRET"] == second.config["STRIPE_WEBHOOK_SECRET"]


def test_emulator_delivery_mode_and_seed_reach_the_emulator(make_app):
    default = make_app()
    assert default.config["STRIPE_EMULATOR_DELIVERY"] == "ordered"
    assert default.extensions["stripe_emulator"].deliverer.mode == "ordered"
    chaos = make_app(STRIPE_EMULATOR_DELIVERY="Chaos", STRIPE_EMULATOR_SEED="42")
    assert (chaos.config["STRIPE_EMULATOR_DELIVERY"], chaos.config["STRIPE_EMULATOR_SEED"]) == (
        "chaos",
        42,
    )
    deliverer = chaos.extensions["stripe_emulator"].deliverer
    assert (deliverer.mode, deliverer.seed) == ("chaos", 42)


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMBERSHIP_GOAL", "12345")
    monkeypatch.setenv("DONATION_CURRENCIES", "EUR, gbp")
    config = base_config(tmp_path)
    app = create_app(config)
    assert app.config["MEMBERSHIP_GOAL"] == 12345
    assert app.config["DONATION_CURRENCIES"] == ["eur", "gbp"]


def test_https_site_url_makes_cookies_secure(tmp_path):
    app = create_app({**base_config(tmp_path), "SITE_URL": "https://news.example.org/"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SITE_URL"] == "https://news.example.org"
    plain = create_app(base_config(tmp_path))
    assert plain.config["SESSION_COOKIE_SECURE"] is False
    assert plain.config["SESSION_COOKIE_HTTPONLY"] is True
    assert plain.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_without_secret_key_keeps_one_random_key(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "inst"))
    config = {**base_config(tmp_path), "APP_ENV": "development", "SECRET_KEY": ""}
    first = create_app(config)
    second = create_app(config)
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert "SECRET_KEY is not set" in caplog.text


def _start(env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "MEMBERSHIP"))}
    env.update(
        {
            "INSTANCE_PATH": str(tmp_path),
            "APP_ENV": "production",
            "SECRET_KEY": STRONG_KEY,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        }
    )
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DATABASE_URL": "mysql+nosuchdriver://x"}, "DATABASE_URL"),
        (
            {"STRIPE_SECRET_KEY": "sk_live_123", "STRIPE_WEBHOOK_SECRET": "whsec_1"},
            "STRIPE_ALLOW_LIVE",
        ),
        ({"MEMBERSHIP_GOAL": "twenty thousand"}, "MEMBERSHIP_GOAL"),
        # Production with no key and no explicit STRIPE_EMULATOR=1: never the emulator.
        ({}, "STRIPE_SECRET_KEY"),
        ({}, "STRIPE_EMULATOR"),
        ({"STRIPE_EMULATOR": "auto"}, "STRIPE_EMULATOR=1"),
        ({"STRIPE_EMULATOR": "0"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_EMULATOR": "yes please"}, "STRIPE_EMULATOR"),
        (
            {
                "STRIPE_EMULATOR": "1",
                "STRIPE_SECRET_KEY": "sk_test_1",
                "STRIPE_WEBHOOK_SECRET": "whsec_1",
            },
            "STRIPE_EMULATOR",
        ),
    ],
)
def test_bad_setting_stops_the_process_with_one_line(tmp_path, env, named):
    result = _start(env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("donations: configuration error:")
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_good_settings_start_the_process(tmp_path):
    result = _start(
        {"STRIPE_SECRET_KEY": "sk_test_1", "STRIPE_WEBHOOK_SECRET": "whsec_1"}, tmp_path
    )
    assert result.returncode == 0, result.stderr


def test_production_runs_the_emulator_only_when_told_to_and_says_so(tmp_path):
    result = _start({"STRIPE_EMULATOR": "1"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "STRIPE_EMULATOR=1" in result.stderr  # the start-up log names it


@pytest.mark.parametrize(
    ("settings", "emulator"),
    [
        ({"APP_ENV": "development"}, True),
        ({"APP_ENV": "testing"}, True),
        ({"APP_ENV": "production", "STRIPE_EMULATOR": "1", "SECRET_KEY": STRONG_KEY}, True),
        ({"APP_ENV": "development", "STRIPE_SECRET_KEY": "sk_test_1"}, False),
        (
            {"APP_ENV": "production", "STRIPE_SECRET_KEY": "sk_test_1", "SECRET_KEY": STRONG_KEY},
            False,
        ),
    ],
)
def test_emulator_mode_follows_the_key_the_environment_and_stripe_emulator(
    tmp_path, monkeypatch, settings, emulator
):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "inst"))
    config = {**base_config(tmp_path), "STRIPE_WEBHOOK_SECRET": "whsec_1", **settings}
    app = create_app(config)
    assert app.config["STRIPE_EMULATOR"] is emulator
    # The emulator's hosted pages (where anyone can "pay" with 4242…) exist only in that mode.
    emulator_rules = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/_emulator")]
    assert bool(emulator_rules) is emulator
    assert ("stripe_emulator" in app.extensions) is emulator


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" Yes ", True), ("ON", True), ("0", False), ("no", False)],
)
def test_yes_may_be_written_four_ways_in_any_case(raw, expected):
    assert is_true(raw) is expected


def test_a_key_without_webhook_secret_warns_with_the_full_setup_command(tmp_path, caplog):
    config = {
        **base_config(tmp_path),
        "STRIPE_SECRET_KEY": "sk_test_" + "x" * 24,
        "STRIPE_EMULATOR": "0",
        "SITE_URL": "https://news.example.org",
    }
    create_app(config)
    assert (
        "`flask --app wsgi stripe setup --webhook-url https://news.example.org/stripe/webhook` "
        "shows it"
    ) in caplog.text
    assert "`flask --app wsgi stripe setup --local`" in caplog.text
