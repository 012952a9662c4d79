"""An offline Stripe for Flask apps: the real `stripe` SDK talks to it, it serves hosted pages.

It imports nothing from the app that hosts it; a host loads it with `init_app(app)`.
"""

from .cards import TEST_CARDS
from .core import Emulator
from .delivery import Transport
from .errors import CardDeclined, CardError, EmulatorError, StripeError
from .events import sign
from .extension import get_emulator
from .flask_ext import init_app
from .http_client import EmulatorHTTPClient

__all__ = [
    "TEST_CARDS",
    "CardDeclined",
    "CardError",
    "Emulator",
    "EmulatorError",
    "EmulatorHTTPClient",
    "StripeError",
    "Transport",
    "get_emulator",
    "init_app",
    "sign",
]
