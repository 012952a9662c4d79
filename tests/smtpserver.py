"""A real SMTP server for the tests (aiosmtpd), on a free port, that can be stopped and started.

It keeps every message it accepted, parsed, so a test can count what arrived and read it.
"""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Keep:
    """aiosmtpd handler: accept every message and keep it."""

    def __init__(self, box: list[EmailMessage], lock: threading.Lock, refused: set[str]) -> None:
        self.box, self.lock, self.refused = box, lock, refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        """Refuse the addresses in `refused` for good (550), as for an unknown mailbox."""
        if address in self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        """Keep the message, parsed (aiosmtpd calls this for each DATA)."""
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.box.append(parsed)
        return "250 Message accepted for delivery"


class SMTPServer:
    """An SMTP server on 127.0.0.1:`port`; `stop()` makes the port refuse until `start()`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()  # addresses answered 550 (no such mailbox)
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen (again) on the same port."""
        if self._controller is None:
            self._controller = Controller(
                _Keep(self.messages, self._lock, self.refused), hostname="127.0.0.1", port=self.port
            )
            self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused, as from a mail server that is down."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        """The messages that arrived for `address`."""
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def settings(self) -> dict[str, str]:
        """The app settings that send mail here."""
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.port),
            "MAIL_USE_TLS": "0",
            "MAIL_FROM": "News <news@example.org>",
        }
