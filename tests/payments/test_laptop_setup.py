"""A real test key on a laptop: no loopback endpoint (Stripe refuses one), `stripe listen`
forwards, and its secret is the one we verify with. Also: what members read when the portal
can't be opened."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from secrets import token_hex

import pytest
import stripe
from flask import Flask

from donations.facts.payload import STRIPE_API_VERSION
from donations.payments.account import WEBHOOK_EVENTS
from donations.payments.gateway import Gateway, build_client
from donations.payments.provider_errors import PORTAL_MESSAGE, READER_REFUSED
from stripe_emulator import Emulator
from tests.factories import login, make_membership, make_user

LAPTOP = "http://127.0.0.1:5000"
LISTEN_SECRET = "whsec_" + "l" * 32


@pytest.fixture
def test_account(tmp_path: Path) -> Iterator[Emulator]:
    """A test-mode account the way Stripe is: it knows nothing of this laptop."""
    emulator = Emulator(
        tmp_path / "account.sqlite3",
        site_url=LAPTOP,
        api_version=STRIPE_API_VERSION,
        background=False,
    )
    yield emulator
    emulator.close()


@pytest.fixture
def stripe_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `stripe` on PATH that answers `stripe listen --print-secret` as the Stripe CLI does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "stripe"
    cli.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = listen ] && [ "$2" = --print-secret ]; then echo ' + LISTEN_SECRET + "; fi\n"
    )
    cli.chmod(cli.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return cli


@pytest.fixture
def laptop_app(make_app: Callable[..., Flask], test_account: Emulator) -> Callable[..., Flask]:
    """`make run` with a real test key: the site on 127.0.0.1:5000."""

    def start(**overrides: str) -> Flask:
        settings = {
            "APP_ENV": "development",
            "STRIPE_SECRET_KEY": "sk_test_" + token_hex(8),
            "STRIPE_WEBHOOK_SECRET": "",
            "SITE_URL": LAPTOP,
            "STRIPE_HTTP_CLIENT": test_account.http_client,
        }
        return make_app(**{**settings, **overrides})

    return start


def test_stripe_refuses_a_loopback_endpoint_and_setup_never_asks_for_one(
    laptop_app: Callable[..., Flask], test_account: Emulator
) -> None:
    sdk = stripe.StripeClient("sk_test_x", http_client=test_account.http_client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.webhook_endpoints.create(
            params={"url": f"{LAPTOP}/stripe/webhook", "enabled_events": ["*"]}
        )
    assert caught.value.param == "url"
    runner = laptop_app().test_cli_runner()
    refused = runner.invoke(args=["stripe", "setup", "--webhook-url", f"{LAPTOP}/stripe/webhook"])
    assert refused.exit_code == 1
    assert "stripe setup --local" in refused.output
    assert f"stripe listen --forward-to {LAPTOP}/stripe/webhook" in refused.output
    assert test_account.list_objects("webhook_endpoint") == []


def test_setup_local_says_to_run_stripe_listen_and_reads_its_secret(
    laptop_app: Callable[..., Flask], test_account: Emulator, stripe_cli: Path
) -> None:
    made = laptop_app().test_cli_runner().invoke(args=["stripe", "setup", "--local"])
    assert made.exit_code == 0, made.output
    events = ",".join(WEBHOOK_EVENTS)
    assert f"stripe listen --forward-to {LAPTOP}/stripe/webhook --events {events}" in made.output
    assert f"Put STRIPE_WEBHOOK_SECRET={LISTEN_SECRET} in .env" in made.output
    assert test_account.list_objects("webhook_endpoint") == []
    assert len(test_account.list_objects("billing_portal.configuration")) == 1


def test_setup_local_without_the_stripe_cli_says_how_to_get_the_secret(
    laptop_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    made = laptop_app().test_cli_runner().invoke(args=["stripe", "setup", "--local"])
    assert made.exit_code == 0, made.output
    assert "stripe listen --print-secret" in made.output
    assert "whsec_" + "l" not in made.output and "The Stripe CLI is not installed" in made.output


def test_check_local_passes_only_with_stripe_listens_secret(
    laptop_app: Callable[..., Flask], stripe_cli: Path
) -> None:
    unset = laptop_app()
    assert unset.test_cli_runner().invoke(args=["stripe", "setup", "--local"]).exit_code == 0
    missing = unset.test_cli_runner().invoke(args=["stripe", "check", "--local"])
    assert missing.exit_code == 1 and "STRIPE_WEBHOOK_SECRET is not set" in missing.output
    other = laptop_app(STRIPE_WEBHOOK_SECRET="whsec_" + "x" * 32)
    wrong = other.test_cli_runner().invoke(args=["stripe", "check", "--local"])
    assert wrong.exit_code == 1
    assert "does not hold the secret `stripe listen` signs with" in wrong.output
    right = laptop_app(STRIPE_WEBHOOK_SECRET=LISTEN_SECRET)
    ready = right.test_cli_runner().invoke(args=["stripe", "check", "--local"])
    assert ready.exit_code == 0, ready.output
    assert "Stripe is ready for this machine" in ready.output


def test_a_failing_portal_tells_the_member_nothing_about_payments(app: Flask, client, db) -> None:
    class Unreachable(stripe.HTTPClient):
        """Every connection fails, as when Stripe can't be reached."""

        name = "unreachable"

        def request(self, method, url, headers, post_data=None, *, _usage=None):
            raise stripe.APIConnectionError("Connection refused")

        def close(self):
            return None

    app.extensions["payments_gateway"] = Gateway(
        build_client(app, http_client=Unreachable()), app.config["STRIPE_WEBHOOK_SECRET"]
    )
    user = make_user(email="member@example.org", stripe_customer_id="cus_member")
    make_membership(user)
    login(client, user)
    answer = client.post("/account/billing", follow_redirects=True)
    page = unescape(answer.get_data(as_text=True))
    assert PORTAL_MESSAGE in page
    assert READER_REFUSED not in page and "payment provider" not in page
