"""POST /stripe/webhook: verify, store once, process, answer fast (design notes §8)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from donations.core.limits import body_limit, read_capped_body
from donations.core.mail_sender import send_fresh_after_response
from donations.core.metrics import count_webhook
from donations.extensions import csrf, db
from donations.payments.gateway import get_gateway
from donations.payments.ledger import receive
from donations.payments.queue import enqueue
from donations.payments.types import InvalidWebhook, WebhookSecretMissing

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)

# Stripe's events are a few kilobytes; refuse anything absurd. Enforced while reading, so a
# chunked body (no Content-Length) is cut off at this size too: 413 before it is all read.
MAX_BODY = 256 * 1024


def _failed():
    """Stripe retries on any non-2xx, and the event is kept for `stripe replay`; the full
    error (which may quote SQL) stays in the ledger for staff, never in the answer."""
    return jsonify(received=True, status="failed", error="processing failed; kept for replay"), 500


@bp.post("/stripe/webhook")
@csrf.exempt
@body_limit(MAX_BODY)
def stripe_webhook():
    """Stripe's events: 400 if unverifiable (nothing stored), 500 if processing failed."""
    body = read_capped_body()
    try:
        fact = get_gateway().verify_event(body, request.headers.get("Stripe-Signature"))
    except InvalidWebhook as exc:
        log.warning("refused webhook: %s", exc)
        count_webhook("unverified", "refused")
        return jsonify(error=str(exc)), 400
    except WebhookSecretMissing as exc:
        # Not the sender's fault and not for good: 503, so Stripe keeps retrying (for days in
        # live mode) and nothing is lost once the secret is set.
        log.error("refused webhook: %s", exc)
        count_webhook("unverified", "unconfigured")
        return jsonify(error="webhook signing secret not configured"), 503
    config = current_app.config
    if config["WEBHOOK_QUEUE"]:  # stored for `flask webhooks work`; nothing else to do now
        outcome = enqueue(fact)
    else:
        livemode = not config["STRIPE_TEST_MODE"]
        outcome = receive(fact, livemode=livemode, installation=config["INSTALLATION_TAG"])
    # The mails the event causes (pay first's claim link) are outbox rows of this transaction:
    # applied here, tried once the answer has gone (Stripe never waits); with the queue, the
    # worker that applies the event sends them. The worker retries them either way.
    db.session.commit()
    count_webhook(fact.type, "duplicate" if outcome.duplicate else outcome.status)
    if outcome.status == "failed":
        return _failed()
    answer = jsonify(received=True, status=outcome.status, duplicate=outcome.duplicate)
    if config["WEBHOOK_QUEUE"] or outcome.duplicate:
        return answer, 200
    return send_fresh_after_response(answer), 200
