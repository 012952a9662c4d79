"""Supporter pages: choose, pay through Checkout, thanks, cancelled; and the billing portal."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    has_request_context,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from donations.accounts.claims import resend_claim_mail
from donations.core.mail_sender import deliver_after_response
from donations.extensions import csrf, db, limiter
from donations.membership.progress import get_progress
from donations.membership.services import membership_state
from donations.membership.view import reader_membership_state
from donations.payments.types import PaymentError, PaymentUnavailable
from donations.support import page
from donations.support.ask import build_ask
from donations.support.forms import SupportForm
from donations.support.origin import check_token_or_origin
from donations.support.services import (
    AlreadyMember,
    new_attempt,
    portal_url,
    start_checkout,
    thanks_status,
)
from donations.support.share import share_links

bp = Blueprint("support", __name__)

# The form carries this reader's CSRF token: never for a shared cache, and looked at again
# before the browser shows a kept copy (the token may have expired meanwhile).
FORM_PAGE = "private, no-cache"
# The thanks page shows the payer's email address: kept nowhere, not even by the browser.
PERSONAL_PAGE = "no-store"
# Without JavaScript the "confirming" page reloads itself (every 2 s, then every 10 s) this many
# times, then stops and says what to do: a lost webhook must not keep a tab busy for good.
# thanks.js follows the same schedule, give or take its backoff.
THANKS_RELOADS = 24


@bp.app_context_processor
def _supporter_context() -> dict:
    # Every page's navigation and support box: thank members, invite lapsed ones back,
    # ask everyone else in place (the box's choices cost no query).
    logged_in = has_request_context() and current_user.is_authenticated
    return {
        "membership_state": reader_membership_state() if logged_in else None,
        "ask": build_ask(current_app.config["DONATION_CURRENCIES"][0]),
    }


def _render(form: SupportForm, status: int = 200):
    member = current_user.is_authenticated and membership_state(current_user.id) == "member"
    context = page.build(form, attempt=new_attempt(), member=member)
    # After a refused POST the page swaps its address for this GET one (history.replaceState),
    # so a reload shows the same message again instead of posting the form a second time.
    retry = None
    if request.method == "POST":
        retry = url_for("support.index", **page.retry_query(form), check="1")
    response = make_response(
        render_template(
            "support/index.html",
            page=context,
            error=form.error,
            progress=get_progress(),
            retry_url=retry,
        ),
        status,
    )
    response.headers["Cache-Control"] = FORM_PAGE
    return response


@bp.get("/support")
def index():
    """The supporter page: interval, preset or custom amount, currency, fee choice.

    A link's choice is checked as far as it goes; with check=1 (the address a refused POST
    leaves behind) the whole choice is judged again, so a reload shows the same message.
    """
    form = SupportForm(formdata=request.args)
    ok = form.validate() if request.args.get("check") == "1" else form.check_prefill()
    return _render(form, 200 if ok else 400)


@bp.post("/support/checkout")
@csrf.exempt  # checked by check_token_or_origin: the box on cached pages carries no token
@limiter.limit("20 per minute")
def checkout():
    """Validate the choice and send the reader to Checkout (303), or show the form again."""
    check_token_or_origin()
    form = SupportForm()
    switch = request.form.get("switch", "")
    if switch:  # a frequency tab (without JavaScript): the same page, the typed amount kept
        return redirect(url_for("support.index", **page.switch_query(form, switch)), 303)
    if not form.validate_on_submit():
        return _render(form, 400)
    choice = form.choice()
    # Pay first: an anonymous reader's membership goes straight to Checkout too.
    user = current_user if current_user.is_authenticated else None
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
    _remember_checkout(checkout_session.id)
    return redirect(checkout_session.url, 303)


CHECKOUTS_KEPT = 5


def _remember_checkout(session_id: str) -> None:
    # One flat string (the session cookie's memo keeps flat values only), newest first.
    kept = [session_id, *session.get("checkouts", "").split()]
    session["checkouts"] = " ".join(list(dict.fromkeys(kept))[:CHECKOUTS_KEPT])


def _started_here(session_id: str) -> bool:
    # A Checkout Session id travels in the thanks URL and the browser's history: only the
    # browser that started it may see the payer's address or have the link sent again.
    return bool(session_id) and session_id in session.get("checkouts", "").split()


@bp.get("/support/thanks")
def thanks():
    """Thank-you page; says "confirming…" and looks again until the webhook has arrived."""
    session_id = request.args.get("session_id", "")[:255]
    status = thanks_status(session_id, started_here=_started_here(session_id))
    reloads = request.args.get("n", "0")
    reloads = int(reloads) if reloads.isascii() and reloads.isdigit() and len(reloads) < 4 else 0
    waiting = status.known and not status.confirmed and not status.ended
    site = current_app.config
    shared = site["SITE_URL"] + (f"/articles/{status.article}" if status.article else "/support")
    response = make_response(
        render_template(
            "support/thanks.html",
            status=status,
            session_id=session_id,
            progress=get_progress(fresh=status.confirmed),
            share=share_links(shared, site["SITE_NAME"]),
            refresh=_next_reload(session_id, reloads) if waiting else None,
        )
    )
    response.headers["Cache-Control"] = PERSONAL_PAGE
    return response


def _next_reload(session_id: str, reloads: int) -> str | None:
    # The no-JS page's next look: "seconds;url=…" (the count rides in the URL), or None when
    # it has looked long enough and shows what to do instead.
    if reloads >= THANKS_RELOADS:
        return None
    delay = 2 if reloads < THANKS_RELOADS // 2 else 10
    return f"{delay};url=" + url_for("support.thanks", session_id=session_id, n=reloads + 1)


@bp.post("/support/thanks/link")
@limiter.limit("5 per hour")
def resend_claim_link():
    """Mail the account link again to the address Checkout collected (pay first)."""
    session_id = request.form.get("session_id", "")[:255]
    resent = resend_claim_mail(session_id) if _started_here(session_id) else None
    back = redirect(url_for("support.thanks", session_id=session_id), 303)
    if resent is None:
        flash("There is no account link to send for this payment.", "info")
        return back
    db.session.commit()
    flash(f"We've sent the link again to {resent.to}.", "success")
    return deliver_after_response(back, [resent.mail_id])


@bp.get("/support/thanks/status")
def thanks_status_json():
    """The thanks page's poll: confirmed, ended since, or not yet; and the member count."""
    status = thanks_status(request.args.get("session_id", "")[:255])
    response = jsonify(
        known=status.known,
        confirmed=status.confirmed,
        ended=status.ended,
        members=get_progress(fresh=status.confirmed).members,
    )
    response.headers["Cache-Control"] = PERSONAL_PAGE
    return response


@bp.get("/support/cancelled")
def cancelled():
    """Back from Checkout without paying; the choice they made is one click away."""
    form = SupportForm(formdata=request.args)
    again = page.again(form) if request.args and form.validate() else None
    return render_template("support/cancelled.html", again=again)


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
