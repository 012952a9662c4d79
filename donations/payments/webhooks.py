"""POST /stripe/webhook: verify, store once, process, answer fast (design notes §8)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from donations.extensions import csrf, db
from donations.payments.gateway import get_gateway
from donations.payments.ledger import receive
from donations.payments.queue import enqueue
from donations.payments.types import InvalidWebhook

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)

MAX_BODY = 1024 * 1024  # Stripe's events are far smaller; refuse anything absurd.


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    """Stripe's events: 400 if unverifiable (nothing stored), 500 if processing failed."""
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error="payload too large"), 413
    try:
        fact = get_gateway().verify_event(
            request.get_data(cache=False), request.headers.get("Stripe-Signature")
        )
    except InvalidWebhook as exc:
        log.warning("refused webhook: %s", exc)
        return jsonify(error=str(exc)), 400
    config = current_app.config
    if config["WEBHOOK_QUEUE"]:  # stored for `flask webhooks work`; nothing else to do now
        outcome = enqueue(fact)
    else:
        livemode = not config["STRIPE_TEST_MODE"]
        outcome = receive(fact, livemode=livemode, installation=config["INSTALLATION_TAG"])
    db.session.commit()
    if outcome.status == "failed":
        # Stripe retries on any non-2xx; the event is kept for `stripe replay` too.
        return jsonify(received=True, status="failed", error=outcome.error), 500
    return jsonify(received=True, status=outcome.status, duplicate=outcome.duplicate), 200
