"""POST /stripe/webhook: verify, store once, process, answer fast (design notes §8)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from donations.accounts.claims import welcome_mails
from donations.extensions import csrf, db
from donations.mail import send_after_response
from donations.membership.records import take_joined_without_account
from donations.payments.gateway import get_gateway
from donations.payments.ledger import receive
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
    livemode = not current_app.config["STRIPE_TEST_MODE"]
    outcome = receive(fact, livemode=livemode, installation=current_app.config["INSTALLATION_TAG"])
    joined = take_joined_without_account()
    db.session.commit()
    if outcome.status == "failed":
        # Stripe retries on any non-2xx; the event is kept for `stripe replay` too.
        return jsonify(received=True, status="failed", error=outcome.error), 500
    response = jsonify(received=True, status=outcome.status, duplicate=outcome.duplicate)
    # Mail after the commit and after the answer: Stripe never waits for our mail server.
    return send_after_response(response, welcome_mails(joined) if joined else []), 200
