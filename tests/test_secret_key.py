"""Production refuses a SECRET_KEY anyone could guess (design §4); development and tests don't
need one."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from donations import ConfigError, create_app
from donations.core.secret_key import secret_key_problem
from tests.conftest import base_config

ROOT = Path(__file__).resolve().parent.parent


def _env_example_key() -> str:
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("SECRET_KEY="):
            return line.removeprefix("SECRET_KEY=")
    raise AssertionError(".env.example lists no SECRET_KEY")


WEAK = {
    "one letter": "x",
    "changeme": "changeme",
    "secret": "secret",
    "one space": " ",
    "empty": "",
    "the .env.example value": _env_example_key(),
    "a letter forty times": "x" * 40,
    "a placeholder repeated to length": "changeme" * 5,
    "a placeholder with separators": "Change-Me-Please-0123456789-abcdefghij",
    "the test suite's key": base_config(Path("/tmp"))["SECRET_KEY"],  # noqa: S108
    "a development key": "dev-key-for-my-laptop-only-0123456789abcdef",
    "a strong key in spaces": f" {secrets.token_hex(32)} ",
    "31 random characters": secrets.token_urlsafe(32)[:31],
}


@pytest.mark.parametrize("key", WEAK.values(), ids=WEAK.keys())
def test_production_refuses_a_weak_secret_key_naming_it(tmp_path, monkeypatch, key):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    settings = {**base_config(tmp_path), "APP_ENV": "production", "STRIPE_EMULATOR": "1"}
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        create_app({**settings, "SECRET_KEY": key})
    assert "secrets.token_hex(32)" in str(refused.value)  # says how to make a good one


@pytest.mark.parametrize(
    "key",
    [
        secrets.token_hex(32),
        secrets.token_urlsafe(32),
        "moonlit harbour, seven ferries & a lighthouse keeper named Ines",
    ],
    ids=["token_hex", "token_urlsafe", "a long passphrase"],
)
def test_production_accepts_a_long_random_key(key):
    assert secret_key_problem(key) is None


def test_a_weak_key_stops_the_production_process_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "SECRET_"))}
    env.update(
        INSTANCE_PATH=str(tmp_path),
        APP_ENV="production",
        SECRET_KEY="changeme",
        STRIPE_EMULATOR="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("donations: configuration error: SECRET_KEY is 8 characters long")


@pytest.mark.parametrize("env", ["development", "testing"])
def test_development_and_tests_start_with_any_key(tmp_path, monkeypatch, env):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({**base_config(tmp_path), "APP_ENV": env, "SECRET_KEY": "x"})
    try:
        assert app.config["SECRET_KEY"] == "x"
    finally:
        app.extensions["stripe_emulator"].close()
