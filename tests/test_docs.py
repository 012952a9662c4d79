"""The README stays true where it repeats the code."""

from __future__ import annotations

import re
from pathlib import Path

from donations.payments.account import WEBHOOK_EVENTS

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_exactly_the_webhook_events_we_handle():
    block = re.search(
        r"<!-- webhook-events -->(.*?)<!-- /webhook-events -->", README.read_text(), re.S
    )
    assert block is not None, "README lost its webhook event list"
    listed = re.findall(r"^- `([a-z_.]+)`$", block.group(1), re.M)
    assert listed == list(WEBHOOK_EVENTS)
