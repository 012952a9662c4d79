"""The README stays true where it repeats the code."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

from donations.config import DEFAULTS, load_settings
from donations.payments.account import WEBHOOK_EVENTS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_readme_lists_exactly_the_webhook_events_we_handle():
    block = re.search(
        r"<!-- webhook-events -->(.*?)<!-- /webhook-events -->", README.read_text(), re.S
    )
    assert block is not None, "README lost its webhook event list"
    listed = re.findall(r"^- `([a-z_.]+)`$", block.group(1), re.M)
    assert listed == list(WEBHOOK_EVENTS)


def _read_from_environ(text: str) -> set[str]:
    return set(re.findall(r"""os\.environ\.get\(\s*["']([A-Z_]+)["']""", text))


def test_env_example_lists_every_setting_the_app_reads():
    package = ROOT / "donations"
    read = set(DEFAULTS) | {
        name for path in package.rglob("*.py") for name in _read_from_environ(path.read_text())
    }
    assert "INSTANCE_PATH" in read  # the scan finds what create_app reads itself
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert listed == read


def test_readme_deploy_section_names_every_variable_gunicorn_conf_reads():
    read = _read_from_environ((ROOT / "deploy" / "gunicorn.conf.py").read_text())
    assert {"GUNICORN_BIND", "FORWARDED_ALLOW_IPS", "GUNICORN_TIMEOUT"} <= read
    deploying = README.read_text().split("## Deploying", 1)[1].split("\n## ", 1)[0]
    assert {name for name in read if f"| `{name}` |" not in deploying} == set()


def test_the_emulators_webhook_secret_is_derived_as_the_readme_says(tmp_path):
    settings = load_settings(
        {"APP_ENV": "development", "SECRET_KEY": "a development key"}, None, str(tmp_path)
    )
    digest = hmac.new(b"a development key", b"stripe-emulator-webhook", hashlib.sha256)
    assert settings["STRIPE_WEBHOOK_SECRET"] == "whsec_" + digest.hexdigest()[:32]
    assert "`stripe-emulator-webhook` as the message" in README.read_text()
