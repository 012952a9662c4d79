"""The account forms: parsing and presence checks only; the rules live in services.

CSRF is checked site-wide by CSRFProtect, so these forms don't add a second token check;
every template still carries the hidden csrf_token input.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length


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


class SignupForm(AccountForm):
    """Email, password and an optional display name."""

    email = StringField("Email address", [EMAIL_REQUIRED, Length(max=320)])
    password = PasswordField("Password", [InputRequired("Choose a password.")])
    name = StringField(
        "Name (optional)", [Length(max=200, message="Keep your name under 200 characters.")]
    )


class LoginForm(AccountForm):
    """Email and password, and whether to stay logged in on this device."""

    email = StringField("Email address", [EMAIL_REQUIRED])
    password = PasswordField("Password", [PASSWORD_REQUIRED])
    remember = BooleanField("Keep me logged in on this device")


class ForgotPasswordForm(AccountForm):
    """The address to send a reset link to."""

    email = StringField("Email address", [EMAIL_REQUIRED])


class ResetPasswordForm(AccountForm):
    """The new password."""

    password = PasswordField("New password", [InputRequired("Choose a new password.")])


class ClaimForm(AccountForm):
    """A password and optional name for the account a paid membership becomes."""

    password = PasswordField("Choose a password")
    name = StringField(
        "Name (optional)", [Length(max=200, message="Keep your name under 200 characters.")]
    )
