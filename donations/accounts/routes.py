"""Sign-up, login (password or emailed link), logout, the account page and password reset."""

from __future__ import annotations

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
from flask_login import current_user, login_required, login_user, logout_user

from donations.accounts import claims, limits, magic, services, sessions
from donations.accounts.forms import (
    ClaimForm,
    ForgotPasswordForm,
    LoginForm,
    LoginLinkConfirmForm,
    LoginLinkForm,
    ResetPasswordForm,
    SignupForm,
)
from donations.accounts.redirects import safe_next
from donations.core.mail_sender import deliver_after_response
from donations.extensions import db
from donations.models import User

bp = Blueprint("accounts", __name__)


def _start_session(user: User, remember: bool = False) -> None:
    """Log in with a new server-side session, and commit (the request's one commit)."""
    # A fresh session at login: nothing from before (or from someone else) carries over.
    session.clear()
    sessions.open_session(user)
    db.session.commit()
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]  # 30 days (config.py)
    login_user(user, remember=remember, duration=duration, fresh=True)


def _next_or(endpoint: str) -> str:
    return safe_next(request.values.get("next")) or url_for(endpoint)


def _form_status(form) -> int:
    return 400 if form.is_submitted() else 200


@bp.after_request
def _no_store(response):
    # Account pages are personal: don't let the back button or a proxy show them later.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.route("/signup", methods=["GET", "POST"])
@limits.per_ip(limits.SIGNUP_PER_IP)
@limits.per_email(limits.SIGNUP_PER_EMAIL)
def signup():
    """Create an account and log the person in; a registered address gets the same answer."""
    if current_user.is_authenticated:
        return redirect(_next_or("accounts.account"))
    form = SignupForm()
    next_url = safe_next(request.values.get("next"))
    if form.validate_on_submit():
        outcome = services.sign_up(form.email.data, form.password.data, form.name.data)
        if not outcome.errors:
            db.session.commit()
            if outcome.user is not None:
                _start_session(outcome.user)
            # The same words and the same page for a new and a registered address.
            flash(services.SIGNUP_SENT.format(email=form.email.data.strip()), "success")
            sent = redirect(url_for(".signup_sent", next=next_url), 303)
            return deliver_after_response(sent, outcome.mail)
        form.add_errors(outcome.errors)
    return render_template("accounts/signup.html", form=form, next=next_url), _form_status(form)


@bp.get("/signup/sent")
def signup_sent():
    """After sign-up: check your email, then carry on where you were going."""
    next_url = safe_next(request.args.get("next")) or url_for("accounts.account")
    return render_template("accounts/signup_sent.html", next=next_url)


@bp.route("/login", methods=["GET", "POST"])
@limits.per_ip(limits.LOGIN_PER_IP)
@limits.per_email(limits.LOGIN_PER_EMAIL)
def login():
    """Log in with email and password, then go to a safe local `next` or the account."""
    if current_user.is_authenticated:
        return redirect(_next_or("accounts.account"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = services.log_in(form.email.data, form.password.data)
        if outcome.user is not None:
            _start_session(outcome.user, remember=form.remember.data)
            flash("You're logged in.", "success")
            return redirect(_next_or("accounts.account"))
        form.add_errors(outcome.errors)
    next_url = safe_next(request.values.get("next"))
    page = render_template(
        "accounts/login.html", form=form, link_form=LoginLinkForm(), next=next_url
    )
    return page, _form_status(form)


@bp.route("/login/link", methods=["GET", "POST"])
@limits.per_ip(limits.FORGOT_PER_IP)
@limits.per_email(limits.FORGOT_PER_EMAIL)
def request_login_link():
    """Ask for an emailed sign-in link; the answer is the same whether or not the account exists."""
    link_form = LoginLinkForm()
    if link_form.validate_on_submit():
        outcome = magic.request_login_link(link_form.email.data)
        if not outcome.errors:
            db.session.commit()
            flash(magic.LOGIN_LINK_SENT.format(email=link_form.email.data.strip()))
            sent = redirect(url_for(".login_link_sent"), 303)
            return deliver_after_response(sent, outcome.mail)
        link_form.add_errors(outcome.errors)
    page = render_template("accounts/login_link.html", link_form=link_form)
    return page, _form_status(link_form)


@bp.get("/login/link/sent")
def login_link_sent():
    """What to do next after asking for a sign-in link."""
    return render_template("accounts/login_link_sent.html")


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@limits.per_ip(limits.RESET_PER_IP)
def login_by_link(token: str):
    """GET shows a button and spends nothing (mail scanners prefetch links); POST logs in."""
    if current_user.is_authenticated:
        flash("You're already logged in; the link was not used.")
        return redirect(url_for(".account"))
    form = LoginLinkConfirmForm()
    if form.validate_on_submit():
        outcome = magic.log_in_by_link(token)
        if outcome.user is not None:
            _start_session(outcome.user)  # commits the spent link with the new session
            flash("You're logged in.", "success")
            return redirect(url_for(".account"), 303)
        return render_template("accounts/login_link_invalid.html"), 400
    user = magic.login_link_user(token)
    if user is None:
        return render_template("accounts/login_link_invalid.html"), 400
    page = render_template(
        "accounts/login_link_confirm.html", form=form, token=token, email=user.email
    )
    return page, _form_status(form)


@bp.post("/logout")
def logout():
    """End the session on the server too (and forget a remember-me cookie)."""
    sessions.close_session(session.get("_user_id"))
    db.session.commit()
    session.clear()
    logout_user()  # after clear(): it leaves the flag that deletes the remember-me cookie
    flash("You're logged out.", "success")
    return redirect(url_for("articles.home"))


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    """End every other session of this account (other browsers, a lost phone); keep this one."""
    ended = sessions.close_other_sessions(current_user, session.get("_user_id"))
    db.session.commit()
    flash(f"Logged out everywhere else ({ended} other session{'s' if ended != 1 else ''}).")
    return redirect(url_for("accounts.account"), 303)


@bp.get("/account")
@login_required
def account():
    """Who you are; later features add membership and donations through the overview."""
    overview = services.account_overview(current_user)
    return render_template("accounts/account.html", overview=overview)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limits.per_ip(limits.FORGOT_PER_IP)
@limits.per_email(limits.FORGOT_PER_EMAIL)
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        outcome = services.request_password_reset(form.email.data)
        if not outcome.errors:
            db.session.commit()
            flash(f"If an account exists for {form.email.data.strip()}, we've emailed it a link.")
            return deliver_after_response(redirect(url_for(".forgot_sent")), outcome.mail)
        form.add_errors(outcome.errors)
    return render_template("accounts/forgot.html", form=form), _form_status(form)


@bp.get("/password/forgot/sent")
def forgot_sent():
    """What to do next after asking for a reset link."""
    return render_template("accounts/forgot_sent.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limits.per_ip(limits.RESET_PER_IP)
def reset_password(token: str):
    """Choose a new password through an emailed link; logs the person in."""
    form = ResetPasswordForm()
    if form.validate_on_submit():
        outcome = services.reset_password(token, form.password.data)
        if outcome.user is not None:
            _start_session(outcome.user)
            flash("Your password has been changed, and you're logged in.", "success")
            return deliver_after_response(redirect(url_for(".account")), outcome.mail)
        form.add_errors(outcome.errors)
    elif not services.reset_token_is_valid(token):
        form.add_errors({"token": [services.RESET_LINK_INVALID]})
    if form.form_errors:
        return render_template("accounts/reset_invalid.html"), 400
    return render_template("accounts/reset.html", form=form, token=token), _form_status(form)


@bp.route("/account/claim/<token>", methods=["GET", "POST"])
@limits.per_ip(limits.RESET_PER_IP)
def claim_membership(token: str):
    """Pay first, account after: the emailed link makes the account (and logs it in), or adds
    the membership to the existing account of that address once its owner has logged in."""
    form = ClaimForm()
    found = claims.claim_for_token(token)
    signed_in = current_user if current_user.is_authenticated else None
    if found is not None and form.validate_on_submit():
        outcome = claims.claim(token, form.password.data or "", form.name.data or "", signed_in)
        if outcome.user is not None:
            if found.account is None:
                _start_session(outcome.user)  # commits the claim with the new login session
            else:
                db.session.commit()  # already logged in as that account
            flash("Your membership is on your account now. Thank you!", "success")
            return redirect(url_for(".account"))
        form.add_errors(outcome.errors)
        found = None if "token" in outcome.errors and not found.for_staff else found
    if found is None:
        return render_template("accounts/claim_invalid.html"), 400
    return render_template(
        "accounts/claim.html",
        form=form,
        claim=found,
        token=token,
        signed_in=signed_in,
        login_url=url_for(".login", next=request.path),
    ), _claim_status(found, signed_in, form)


def _claim_status(found: claims.Claim, signed_in: User | None, form: ClaimForm) -> int:
    # An existing account is never logged into by the link: its owner logs in and comes
    # back (200 until then); a staff account, or someone else's login, is refused.
    other_login = signed_in is not None and not found.signed_in_as_account(signed_in)
    if found.for_staff or other_login:  # a new address's link too: never switch people
        return 403
    return _form_status(form)
