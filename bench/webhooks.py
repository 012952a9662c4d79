"""The webhook-ingest target: pre-signed Stripe events that wrk cycles through.

wrk's Lua has no HMAC, so the events are signed here, just before the app starts; the run
is far shorter than Stripe's 300 s signature tolerance.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

SECRET = "whsec_bench_ingest_0123456789abcdef"  # noqa: S105 (a throwaway bench secret)
EVENTS = 20_000  # more than a 12 s run can send, so every request is a new event


def _subscription_event(n: int, created: int) -> dict[str, Any]:
    """A customer.subscription.created for a customer we have never seen (creates a supporter)."""
    sub = {
        "id": f"sub_bench_{n:06d}", "object": "subscription", "customer": f"cus_bench_{n:06d}",
        "status": "active", "cancel_at_period_end": False, "currency": "usd",
        "start_date": created, "ended_at": None, "livemode": False,
        "metadata": {"interval": "month", "fee_amount": "0"},
        "items": {"object": "list", "data": [{
            "id": f"si_bench_{n:06d}", "object": "subscription_item", "quantity": 1,
            "current_period_start": created, "current_period_end": created + 30 * 86400,
            "price": {"id": "price_bench", "object": "price", "currency": "usd",
                      "unit_amount": 800, "recurring": {"interval": "month", "interval_count": 1}},
        }]},
    }  # fmt: skip
    return {
        "id": f"evt_bench_{n:06d}", "object": "event", "api_version": "2026-10-28.endive",
        "created": created, "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "customer.subscription.created", "data": {"object": sub},
    }  # fmt: skip


def _sign(body: str, timestamp: int) -> str:
    mac = hmac.new(SECRET.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def setup(ctx) -> None:
    """Write the signed events for wrk and give the app the secret they are signed with."""
    path = Path(ctx.env["INSTANCE_PATH"]).parent / "webhook-events.tsv"
    now = int(time.time())
    with path.open("w") as out:
        for n in range(EVENTS):
            body = json.dumps(_subscription_event(n, now), separators=(",", ":"))
            out.write(f"{_sign(body, now)}\t{body}\n")
    ctx.env["BENCH_WEBHOOK_FILE"] = str(path)
    ctx.env["STRIPE_WEBHOOK_SECRET"] = SECRET


def check(ctx, target) -> None:
    """POST one signed event of another id: it must be verified, stored and processed."""
    now = int(time.time())
    body = json.dumps(_subscription_event(EVENTS + 1, now), separators=(",", ":"))
    request = urllib.request.Request(
        ctx.base_url + target.path, data=body.encode(), method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": _sign(body, now)},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    # "queued" with WEBHOOK_QUEUE=1 (as bench/run.py serves the app), else "processed".
    if response.status != 200 or answer.get("status") not in ("processed", "queued"):
        raise RuntimeError(f"webhook check: {response.status} {answer}")
