"""Supporter pages: choose, pay through Checkout, thanks, cancelled; and the billing portal."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from donations.extensions import db, limiter
from donations.membership.progress import get_progress
from donations.payments.types import PaymentError, PaymentUnavailable
from donations.support import page
from donations.support.forms import SupportForm
from donations.support.services import (
    AlreadyMember,
    Choice,
    new_attempt,
    portal_url,
    start_checkout,
    thanks_status,
)

bp = Blueprint("support", __name__)


def _render(form: SupportForm, status: int = 200):
    context = page.build(form, attempt=new_attempt())
    return render_template(
        "support/index.html", page=context, error=form.error, progress=get_progress()
    ), status


def _to_signup(choice: Choice):
    # Memberships need an account; come back to the same choice afterwards.
    back = url_for("support.index") + "?" + urlencode(page.choice_query(choice))
    flash("Create an account (or log in) so you can manage your membership later.", "info")
    return redirect(url_for("accounts.signup", next=back), 303)


@bp.get("/support")
def index():
    """The supporter page: interval, preset or custom amount, currency, fee choice."""
    form = SupportForm(formdata=request.args)
    return _render(form, 200 if form.check_prefill() else 400)


@bp.post("/support/checkout")
@limiter.limit("20 per minute")
def checkout():
    """Validate the choice and send the reader to Checkout (303), or show the form again."""
    form = SupportForm()
    if not form.validate_on_submit():
        return _render(form, 400)
    choice = form.choice()
    user = current_user if current_user.is_authenticated else None
    if choice.needs_account and user is None:
        return _to_signup(choice)
    visitor = session.setdefault("visitor", new_attempt())
    site = current_app.config
    try:
        checkout_session = start_checkout(
            choice, user, site_url=site["SITE_URL"], site_name=site["SITE_NAME"], visitor=visitor
        )
    except AlreadyMember:
        flash("You're already a member, thank you! You can manage your membership here.", "info")
        return redirect(url_for("accounts.account"), 303)
    except PaymentError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _render(form, 503 if isinstance(exc, PaymentUnavailable) else 400)
    db.session.commit()
    return redirect(checkout_session.url, 303)


@bp.get("/support/thanks")
def thanks():
    """Thank-you page; says "confirming…" and refreshes until the webhook has arrived."""
    status = thanks_status(request.args.get("session_id", "")[:255])
    return render_template("support/thanks.html", status=status)


@bp.get("/support/cancelled")
def cancelled():
    """Back from Checkout without paying."""
    return render_template("support/cancelled.html")


@bp.post("/account/billing")
@login_required
def billing_portal():
    """Send a member to the Billing Portal to change their card or cancel (303)."""
    try:
        url = portal_url(current_user, return_url=current_app.config["SITE_URL"] + "/account")
    except PaymentError as exc:
        flash(str(exc), "error")
        return redirect(url_for("accounts.account"), 303)
    return redirect(url, 303)
