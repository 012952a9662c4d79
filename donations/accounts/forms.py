"""The account forms: parsing and presence checks only; the rules live in services.

CSRF is checked site-wide by CSRFProtect, so these forms don't add a second token check;
every template still carries the hidden csrf_token input.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from donations.accounts.passwords import MAX_LENGTH


class AccountForm(FlaskForm):
    """Base: no per-form CSRF field, and a way to attach messages from a service."""

    class Meta:
        csrf = False

    def add_errors(self, errors: Mapping[str, list[str]]) -> None:
        """Show service messages next to their fields; others go above the form."""
        for name, messages in errors.items():
            field = self._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, *messages]
            else:
                self.form_errors.extend(messages)


EMAIL_REQUIRED = InputRequired("Enter your email address.")
PASSWORD_REQUIRED = InputRequired("Enter your password.")
# Checked before any address parsing or hashing, so that a megabyte costs nothing.
EMAIL_LENGTH = Length(max=320, message="That is longer than any email address.")
PASSWORD_LENGTH = Length(max=MAX_LENGTH, message=f"Use at most {MAX_LENGTH} characters.")


class SignupForm(AccountForm):
    """Email, password and an optional display name."""

    email = StringField("Email address", [EMAIL_REQUIRED, EMAIL_LENGTH])
    password = PasswordField("Password", [InputRequired("Choose a password."), PASSWORD_LENGTH])
    name = StringField(
        "Name (optional)", [Length(max=200, message="Keep your name under 200 characters.")]
    )


class LoginForm(AccountForm):
    """Email and password, and whether to stay logged in on this device."""

    email = StringField("Email address", [EMAIL_REQUIRED, EMAIL_LENGTH])
    password = PasswordField("Password", [PASSWORD_REQUIRED, PASSWORD_LENGTH])
    remember = BooleanField("Keep me logged in on this device")


class ForgotPasswordForm(AccountForm):
    """The address to send a reset link to."""

    email = StringField("Email address", [EMAIL_REQUIRED, EMAIL_LENGTH])


class ResetPasswordForm(AccountForm):
    """The new password."""

    password = PasswordField(
        "New password", [InputRequired("Choose a new password."), PASSWORD_LENGTH]
    )


class ClaimForm(AccountForm):
    """A password and optional name for the account a paid membership becomes."""

    password = PasswordField("Choose a password", [PASSWORD_LENGTH])
    name = StringField(
        "Name (optional)", [Length(max=200, message="Keep your name under 200 characters.")]
    )


class LoginLinkForm(AccountForm):
    """The address to send a sign-in link to (its own id: it sits beside the login form)."""

    email = StringField(
        "Address for a sign-in link", [EMAIL_REQUIRED, EMAIL_LENGTH], id="link-email"
    )


class LoginLinkConfirmForm(AccountForm):
    """Nothing to fill in: the button that spends a sign-in link (a GET never does)."""
