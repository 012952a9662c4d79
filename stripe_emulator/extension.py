"""Where a Flask app keeps its Emulator: read by the pages, the CLI and the host app."""

from __future__ import annotations

from flask import Flask

from .core import Emulator

EXTENSION_KEY = "stripe_emulator"


def get_emulator(app: Flask) -> Emulator:
    """Return the app's Emulator; raise RuntimeError when emulator mode is off."""
    emulator = app.extensions.get(EXTENSION_KEY)
    if emulator is None:
        raise RuntimeError("The Stripe emulator is not enabled for this app (see init_app).")
    return emulator
