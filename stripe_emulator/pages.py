"""Hosted pages: the emulator's Checkout page, Billing Portal and receipts, under /_emulator."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from . import expiry
from . import objects as o
from .cards import TEST_CARD_HINTS
from .errors import CardError, EmulatorError
from .extension import get_emulator
from .money import format_amount

# The package ships its own templates and stylesheet, so any Flask app can host the pages.
bp = Blueprint(
    "emulator",
    __name__,
    url_prefix="/_emulator",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PORTAL_ACTIONS = ("cancel_at_period_end", "cancel_now", "resume")
_DONE = {
    "cancel_at_period_end": "Your subscription will be canceled at the end of the period.",
    "cancel_now": "Your subscription has been canceled.",
    "resume": "Your subscription will continue.",
}


def _site_name() -> str:
    return str(current_app.config.get("SITE_NAME") or "Newsroom")


def _date(ts: int | None) -> str:
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%-d %B %Y")


def _load(obj_id: str, obj_type: str) -> dict[str, Any]:
    obj = get_emulator(current_app).get(obj_id)
    if obj is None or obj.get("object") != obj_type:
        abort(404)
    return obj


def _items(session: dict[str, Any]) -> list[dict[str, str]]:
    lines = []
    for line in session[o.PRIVATE + "line_items"]["data"]:
        price = line["price"]
        label = f"{line['description']} — {o.describe_price(price)}"
        if line["quantity"] > 1:
            label += f" \u00d7 {line['quantity']}"
        lines.append(
            {"label": label, "amount": format_amount(line["amount_total"], price["currency"])}
        )
    return lines


def _split_expiry(text: str) -> tuple[str, str]:
    digits = re.sub(r"\D", "", text)
    if "/" in text:
        month, _, year = text.partition("/")
        return month.strip(), year.strip()
    return digits[:2], digits[2:]


@bp.route("/checkout/<session_id>", methods=["GET", "POST"])
def checkout(session_id: str) -> Any:
    """Show the Checkout page; on POST charge the card and redirect to the success URL."""
    _load(session_id, "checkout.session")
    # Its expires_at may have passed on the emulator's clock: then it expires now, and says so.
    session = expiry.expire_if_due(get_emulator(current_app), session_id) or {}
    base = {"session": session, "site_name": _site_name(), "items": _items(session)}
    base["total"] = format_amount(session["amount_total"], session["currency"])
    if session["status"] == "complete":
        success = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
        return render_template("emulator/checkout_done.html", success_url=success, **base)
    if session["status"] == "expired":
        return render_template("emulator/checkout_expired.html", **base), 410
    page = _checkout_page(session, base)
    if request.method == "GET":
        return render_template("emulator/checkout.html", **page)
    return _pay(session_id, page)


def _checkout_page(session: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The Checkout form's context; the email is fixed when the session names a customer."""
    locked_email = None
    if session["customer"]:
        locked_email = (get_emulator(current_app).get(session["customer"]) or {}).get("email")
    locked_email = locked_email or session["customer_email"]
    return {
        **base,
        "locked_email": locked_email,
        "form": {"email": locked_email or "", "name": "", "exp": ""},
        "error": None,
        "error_field": None,
        "test_cards": TEST_CARD_HINTS,
    }


def _pay(session_id: str, page: dict[str, Any]) -> Any:
    """Charge the posted card; the form again with Stripe's message when it can't be."""
    form = page["form"]
    email = page["locked_email"] or request.form.get("email", "").strip()
    form.update(
        email=email,
        name=request.form.get("name", "").strip(),
        exp=request.form.get("exp", "").strip(),
    )
    if not _EMAIL.match(email):
        page.update(error="Your email address is incomplete or invalid.", error_field="email")
        return render_template("emulator/checkout.html", **page), 400
    month, year = _split_expiry(form["exp"])
    try:
        url = get_emulator(current_app).pay_checkout(
            session_id,
            request.form.get("card_number", ""),
            email=email,
            name=form["name"],
            exp_month=month,
            exp_year=year,
            cvc=request.form.get("cvc", ""),
        )
    except CardError as exc:
        field = {"number": "card_number", "exp": "exp", "cvc": "cvc"}.get(exc.param or "")
        page.update(error=exc.message, error_field=field or "card_number")
        return render_template("emulator/checkout.html", **page), 402
    except EmulatorError as exc:
        page.update(error=str(exc))
        return render_template("emulator/checkout.html", **page), 409
    return redirect(url, code=303)


def _allowed_actions(bps: dict[str, Any]) -> set[str]:
    """What the session's configuration lets a customer do (`features.subscription_cancel`).

    Stripe's portal shows only what its configuration enables: with cancellation off there is
    nothing to cancel, and mode `at_period_end` offers no immediate cancel (API reference,
    billing_portal.configuration.features.subscription_cancel).
    """
    config = get_emulator(current_app).get(bps.get("configuration") or "") or {}
    cancel = (config.get("features") or {}).get("subscription_cancel") or {}
    if not cancel.get("enabled"):
        return set()
    if cancel.get("mode") == "immediately":
        return {"cancel_now"}
    return {"cancel_at_period_end", "resume"}


@bp.route("/portal/<bps_id>", methods=["GET", "POST"])
def portal(bps_id: str) -> Any:
    """The Billing Portal: list the customer's subscriptions and cancel or resume them."""
    bps = _load(bps_id, "billing_portal.session")
    allowed = _allowed_actions(bps)
    error = None
    if request.method == "POST":
        action, sub = _portal_target(bps, allowed)
        if action != "resume" and request.form.get("confirm") != "1":
            # Stripe's portal cancels only from a second page that says what cancelling does
            # ("Cancel subscription" there; docs.stripe.com/customer-management/portal-deep-links,
            # flow type subscription_cancel): the first click only asks.
            return _portal_page(bps, allowed, None, confirm={"action": action, **_portal_row(sub)})
        error = _portal_action(action, sub)
        if error is None:
            done = request.form.get("action", "")
            return redirect(url_for("emulator.portal", bps_id=bps_id, done=done), code=303)
    page = _portal_page(bps, allowed, error)
    return (page, 409) if error else page


def _portal_page(
    bps: dict[str, Any], allowed: set[str], error: str | None, confirm: dict | None = None
) -> str:
    """The portal page: the customer's subscriptions and the actions the configuration allows
    (or, with `confirm`, the question before one of them cancels)."""
    emu = get_emulator(current_app)
    return render_template(
        "emulator/portal.html",
        site_name=_site_name(),
        customer=emu.get(bps["customer"]) or {},
        subscriptions=[
            _portal_row(sub)
            for sub in emu.list_objects("subscription")
            if sub["customer"] == bps["customer"]
        ],
        allowed=allowed,
        return_url=bps["return_url"] or emu.site_url,
        done=_DONE.get(request.args.get("done", "")),
        error=error,
        confirm=confirm,
    )


def _portal_target(bps: dict[str, Any], allowed: set[str]) -> tuple[str, dict[str, Any]]:
    """The posted action and its subscription of this customer (400/403 when not offered)."""
    action = request.form.get("action", "")
    sub = get_emulator(current_app).get(request.form.get("subscription", ""))
    if action not in _PORTAL_ACTIONS or sub is None or sub.get("customer") != bps["customer"]:
        abort(400)
    if action not in allowed:
        abort(403)  # the configuration does not offer it; the page never showed it
    return action, sub


def _portal_action(action: str, sub: dict[str, Any]) -> str | None:
    """Apply a checked portal action; its error message, or None when it was done."""
    emu = get_emulator(current_app)
    try:
        if action == "resume":
            emu.resume(sub["id"])
        else:
            emu.cancel(sub["id"], at_period_end=action == "cancel_at_period_end")
    except EmulatorError as exc:
        return str(exc)
    return None


def _portal_row(sub: dict[str, Any]) -> dict[str, Any]:
    item = sub["items"]["data"][0]
    product = get_emulator(current_app).get(item["price"]["product"]) or {}
    return {
        "id": sub["id"],
        "name": product.get("name") or "Subscription",
        "price": o.describe_price(item["price"])
        + (f" \u00d7 {item['quantity']}" if item["quantity"] > 1 else ""),
        "status": sub["status"],
        "period_end": _date(item["current_period_end"]),
        "cancel_at_period_end": sub["cancel_at_period_end"],
        "active": sub["status"] not in ("canceled", "incomplete_expired"),
    }


@bp.route("/receipts/<charge_id>")
def receipt(charge_id: str) -> str | Response:
    """A charge's receipt (the `receipt_url` of emulated charges)."""
    ch = _load(charge_id, "charge")
    return render_template(
        "emulator/receipt.html",
        site_name=_site_name(),
        charge=ch,
        amount=format_amount(ch["amount"], ch["currency"]),
        refunded=format_amount(ch["amount_refunded"], ch["currency"]),
        date=_date(ch["created"]),
        card=ch["payment_method_details"]["card"],
    )
