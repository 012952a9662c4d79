"""Wiring into a Flask app: build the Emulator from config, add its pages and CLI."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .cli import emulator_cli
from .core import Emulator
from .extension import EXTENSION_KEY
from .pages import bp


def init_app(app: Flask) -> Emulator:
    """Create the app's Emulator from config, register pages and `flask emulator` commands."""
    config: Any = app.config
    path = config.get("STRIPE_EMULATOR_DB") or os.path.join(
        app.instance_path, "stripe-emulator.sqlite3"
    )
    site_url = str(config.get("SITE_URL") or "http://127.0.0.1:5000").rstrip("/")
    seed = config.get("STRIPE_EMULATOR_SEED")
    emulator = Emulator(
        path,
        site_url=site_url,
        # Every endpoint the host registers signs with the secret it verifies with (as with
        # `stripe listen`). Events reach the host only once it registers an endpoint.
        # (With several, comma-separated, the first: the newest, by our convention.)
        signing_secret=str(config.get("STRIPE_WEBHOOK_SECRET") or "").split(",")[0] or None,
        # The host app itself: its own endpoint may be on localhost (pure emulator mode).
        host_origin=site_url,
        # The host app's pinned version; without one, the Emulator answers in the SDK's.
        api_version=config.get("STRIPE_API_VERSION") or None,
        # `ordered` (one at a time, oldest first) or `chaos` (shuffled, duplicated, concurrent).
        delivery=str(config.get("STRIPE_EMULATOR_DELIVERY") or "ordered"),
        seed=None if seed in (None, "") else int(seed),
        # Optional knobs, mainly for tests: deliver through a test client, synchronously.
        transport=config.get("STRIPE_EMULATOR_TRANSPORT"),
        background=bool(config.get("STRIPE_EMULATOR_BACKGROUND", True)),
        retry_base_seconds=float(config.get("STRIPE_EMULATOR_RETRY_BASE", 0.5)),
        max_attempts=int(config.get("STRIPE_EMULATOR_MAX_ATTEMPTS", 8)),
        # The account's payout currency: Stripe's minimum charge follows it.
        settlement_currency=str(config.get("STRIPE_SETTLEMENT_CURRENCY") or "usd"),
    )
    app.extensions[EXTENSION_KEY] = emulator
    if "emulator" not in app.blueprints:
        app.register_blueprint(bp)
    app.cli.add_command(emulator_cli)
    return emulator
