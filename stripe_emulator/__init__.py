"""The offline Stripe emulator: imported only when the app runs without a Stripe key."""

from .cards import TEST_CARDS
from .core import DEFAULT_API_VERSION, Emulator
from .errors import CardDeclined, CardError, EmulatorError, StripeError
from .events import Transport, sign
from .flask_ext import get_emulator, init_app
from .http_client import EmulatorHTTPClient

__all__ = [
    "DEFAULT_API_VERSION",
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
