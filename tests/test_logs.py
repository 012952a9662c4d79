"""The app's access log: a link that works as a password until used never reaches it."""

from __future__ import annotations

import logging

TOKEN = "eyJzZWNyZXQiOiJ0b2tlbiJ9.aGVsbG8.c2lnbmVk"


def test_the_access_log_never_holds_a_claim_or_reset_token(client, caplog):
    with caplog.at_level(logging.INFO, logger="donations.access"):
        client.get(f"/account/claim/{TOKEN}")
        client.get(f"/password/reset/{TOKEN}")
        client.get("/password/forgot")
    lines = [r for r in caplog.records if r.name == "donations.access"]
    assert [r.getMessage() for r in lines] == [
        "GET /account/claim/… 400",
        "GET /password/reset/… 400",
        "GET /password/forgot 200",
    ]
    assert all(TOKEN not in str(r.__dict__) for r in lines)
