"""README "From test to live", run as written against an emulated fresh live account.

Production settings, a new live key and no webhook secret yet: the site starts, `stripe setup`
hands the secret over without a log seeing it, and after the restart `stripe check` exits 0
once a signed delivery has made the round trip through our endpoint.
"""

from __future__ import annotations

import re
import shlex
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from secrets import token_hex
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from donations.extensions import db as _db
from donations.facts.payload import STRIPE_API_VERSION
from donations.models import Donation, StripeEvent
from donations.payments import account_cli
from donations.payments.provider_errors import READER_REFUSED
from stripe_emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
HOST = "news.example.org"
SITE = f"https://{HOST}"
WEBHOOK_URL = f"{SITE}/stripe/webhook"


def readme_commands() -> list[list[str]]:
    """The `flask --app wsgi …` commands of README "From test to live", in order."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### From test to live", 1)[1].split("\n## ", 1)[0]
    spans = re.findall(r"`(flask --app wsgi [^`]+)`", section)
    commands = [shlex.split(" ".join(span.replace("YOUR-SITE", HOST).split())) for span in spans]
    return [command[3:] for command in commands]


class LiveAccount:
    """A fresh live Stripe account (the emulator in live mode) that delivers to one app."""

    def __init__(self, path: Path) -> None:
        self.server: Flask | None = None
        self.emulator = Emulator(
            path,
            site_url=SITE,
            api_version=STRIPE_API_VERSION,
            background=False,
            livemode=True,
            transport=self._post,
        )

    def _post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        assert self.server is not None and url == WEBHOOK_URL
        response = self.server.test_client().post("/stripe/webhook", data=body, headers=headers)
        response.close()
        return response.status_code


@pytest.fixture
def account(tmp_path: Path) -> Iterator[LiveAccount]:
    """An emulated live account, reached by the app only through the SDK's transport."""
    live = LiveAccount(tmp_path / "live-account.sqlite3")
    yield live
    live.emulator.close()


@pytest.fixture
def live_app(make_app: Callable[..., Flask], account: LiveAccount) -> Callable[..., Flask]:
    """Start the site with production settings and a live key; keyword arguments override."""
    settings: dict[str, Any] = {
        "APP_ENV": "production",
        "SECRET_KEY": token_hex(32),
        "STRIPE_SECRET_KEY": "sk_live_" + token_hex(12),
        "STRIPE_ALLOW_LIVE": "1",
        "STRIPE_PUBLISHABLE_KEY": "pk_live_" + token_hex(12),
        "SITE_URL": SITE,
        "STRIPE_WEBHOOK_SECRET": "",
        "STRIPE_HTTP_CLIENT": account.emulator.http_client,
    }

    def start(**overrides: Any) -> Flask:
        app = make_app(**{**settings, **overrides})
        settings["SECRET_KEY"] = app.config["SECRET_KEY"]  # a restart keeps its settings
        account.server = app
        return app

    return start


def test_readme_from_test_to_live_runs_as_written(
    live_app: Callable[..., Flask],
    account: LiveAccount,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)  # where --secret-file's relative path lands
    setup, check, *after = readme_commands()
    assert setup[:2] == ["stripe", "setup"] and "--secret-file" in setup
    assert check == ["stripe", "check"]
    assert ["stripe", "sync", "--dry-run"] in after
    # Step 2: production settings, a live key, no secret yet. The site starts...
    first = live_app()
    assert first.config["APP_ENV"] == "production" and not first.config["STRIPE_TEST_MODE"]
    # ...and refuses deliveries, saying why, with a status Stripe retries.
    early = first.test_client().post(
        "/stripe/webhook", data=b"{}", headers={"Stripe-Signature": "t=1"}
    )
    assert early.status_code == 503
    assert "STRIPE_WEBHOOK_SECRET is not set" in caplog.text
    runner = first.test_cli_runner()
    unready = runner.invoke(args=check)
    assert unready.exit_code == 1
    assert f"no webhook endpoint for {WEBHOOK_URL}" in unready.output
    assert "STRIPE_WEBHOOK_SECRET is not set" in unready.output
    # Step 3. A deploy log is no terminal: without --secret-file nothing is made or shown.
    blind = runner.invoke(args=[a for a in setup if a != "--secret-file"][:4])
    assert blind.exit_code != 0 and "not a terminal" in blind.output
    assert "whsec_" not in blind.output and account.emulator.list_objects("webhook_endpoint") == []
    made = runner.invoke(args=setup)
    assert made.exit_code == 0, made.output
    assert "whsec_" not in made.output
    secret_file = tmp_path / setup[setup.index("--secret-file") + 1]
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    (endpoint,) = account.emulator.list_objects("webhook_endpoint")
    assert (endpoint["url"], endpoint["livemode"]) == (WEBHOOK_URL, True)
    assert secret.startswith("whsec_")
    # ...put it in STRIPE_WEBHOOK_SECRET and restart. Step 4: `stripe check` must exit 0.
    second = live_app(STRIPE_WEBHOOK_SECRET=secret)
    checked = second.test_cli_runner().invoke(args=check)
    assert checked.exit_code == 0, checked.output
    assert "Stripe is ready" in checked.output
    with second.app_context():
        (stored,) = _db.session.scalars(select(StripeEvent)).all()
        assert (stored.type, stored.status, stored.livemode) == (
            "donations.webhook_check",
            "ignored",
            True,
        )
        assert _db.session.scalar(select(func.count()).select_from(Donation)) == 0
    assert f"a signed test delivery ({stored.stripe_event_id}) reached {WEBHOOK_URL}" in (
        checked.output
    )
    assert second.test_client().get("/api/progress").get_json()["members"] == 0
    # Steps 5 and 6 run as written too.
    for command in after:
        ran = second.test_cli_runner().invoke(args=command)
        assert ran.exit_code == 0, (command, ran.output)


def test_a_live_secret_is_shown_once_on_a_terminal(
    live_app: Callable[..., Flask], account: LiveAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(account_cli, "_stdout_is_terminal", lambda: True)
    runner = live_app().test_cli_runner()
    shown = runner.invoke(args=["stripe", "setup", "--webhook-url", WEBHOOK_URL])
    assert shown.exit_code == 0, shown.output
    (endpoint,) = account.emulator.list_objects("webhook_endpoint")
    secret = endpoint["__secret"]
    assert shown.output.count("whsec_") == 1
    assert "Shown once" in shown.output
    assert f"(set STRIPE_WEBHOOK_SECRET to it): {secret}" in shown.output
    again = runner.invoke(args=["stripe", "setup", "--webhook-url", WEBHOOK_URL])
    assert again.exit_code == 0 and "whsec_" not in again.output
    assert "Nothing to change" in again.output


def test_refusals_say_what_stripe_said_and_what_to_do(
    live_app: Callable[..., Flask], tmp_path: Path
) -> None:
    runner = live_app().test_cli_runner()
    plain_url = f"http://{HOST}/stripe/webhook"
    secret_file = str(tmp_path / "secret")
    plain = runner.invoke(
        args=["stripe", "setup", "--webhook-url", plain_url, "--secret-file", secret_file]
    )
    assert plain.exit_code == 1
    said = plain.output
    assert "Creating the webhook endpoint for http://news.example.org/stripe/webhook failed" in said
    assert "Stripe said: Invalid URL: live mode endpoints must use HTTPS." in said
    assert "code url_invalid, param url, HTTP 400, request req_" in said
    assert "Give the public https:// address" in said
    assert "Traceback" not in said and READER_REFUSED not in said
    # A test key on the live account: Stripe's 401, and which setting to look at.
    wrong = live_app(STRIPE_SECRET_KEY="sk_test_" + token_hex(8), STRIPE_ALLOW_LIVE="0")
    refused = wrong.test_cli_runner().invoke(args=["stripe", "check"])
    assert refused.exit_code == 1
    assert "Stripe said: Invalid API Key provided" in refused.output
    assert "Check STRIPE_SECRET_KEY" in refused.output and "Traceback" not in refused.output
