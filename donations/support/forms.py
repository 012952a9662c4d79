"""The supporter form: the fields the support page posts (and links carry), parsed by WTForms.

CSRF is checked site-wide by CSRFProtect, so the form adds no second token check; the
template still carries the hidden csrf_token input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, ValidationError

from donations.core.truthy import is_true
from donations.money import MoneyError
from donations.support.options import CUSTOM, INTERVALS, card_fee, settlement_currency
from donations.support.services import Choice, to_amount

ARTICLE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ATTEMPT_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _strip(value: str) -> str:
    return value.strip()


def _strip_lower(value: str) -> str:
    return value.strip().lower()


class OptIn(BooleanField):
    """A checkbox that is on only for the values a browser or a link sends for yes."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """On for the strings that mean yes (core.truthy); anything else (or nothing) is off."""
        self.data = bool(valuelist) and is_true(valuelist[0])


@dataclass(frozen=True)
class FormError:
    """The one message shown above the form, and the field it is about (None: no field)."""

    field: str | None
    message: str


class SupportForm(FlaskForm):
    """Interval, amount (a preset, or "custom" plus custom_amount), currency and the fee opt-in."""

    class Meta:
        csrf = False

    interval = StringField(default="", filters=[_strip])
    currency = StringField(default="", filters=[_strip_lower])
    # A preset's major-unit value, "custom", or any major-unit amount (from a link).
    amount = StringField(default="")
    custom_amount = StringField(default="")
    # The support box's presets, one group per interval so that switching the interval
    # without JavaScript picks that interval's amount (used when `amount` is absent).
    preset_once = StringField(default="")
    preset_month = StringField(default="")
    preset_year = StringField(default="")
    cover_fee = OptIn()
    article = StringField(default="")
    attempt = StringField(default="")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currencies: list[str] = list(current_app.config["DONATION_CURRENCIES"])
        self.amount_minor: int | None = None

    @property
    def typed_amount(self) -> str:
        """The amount to charge: a typed custom amount wins over a preset left selected.

        Without JavaScript nothing moves the radio to "another amount" while the reader types,
        so a non-empty custom amount is what they meant, whichever preset is still checked.
        """
        typed = (self.custom_amount.data or "").strip()
        if typed or self.amount.data == CUSTOM:
            return typed
        if self.amount.data or self.interval.data not in INTERVALS:
            return self.amount.data
        return self[f"preset_{self.interval.data}"].data

    def validate_interval(self, field: StringField) -> None:
        """Once, monthly or yearly."""
        if field.data not in INTERVALS:
            raise ValidationError("Please choose once, monthly or yearly.")

    def validate_currency(self, field: StringField) -> None:
        """One of the currencies this site offers."""
        if field.data not in self.currencies:
            offered = ", ".join(code.upper() for code in self.currencies)
            raise ValidationError(f"Please choose one of: {offered}.")

    def validate_amount(self, field: StringField) -> None:
        """A chargeable amount in the chosen currency (needs a valid currency to judge)."""
        if self.currency.errors:
            return
        try:
            self.amount_minor = to_amount(
                self.typed_amount, self.currency.data, settlement_currency()
            )
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None

    def check_prefill(self) -> bool:
        """Check only the fields a link filled in (the page falls back for missing ones)."""
        checks = [
            (self.interval, self.validate_interval),
            (self.currency, self.validate_currency),
        ]
        if self.typed_amount:
            checks.append((self.amount, self.validate_amount))
        for field, check in checks:
            if field.data:
                try:
                    check(field)
                except ValidationError as exc:
                    field.errors = [str(exc)]
        return not any(field.errors for field, _ in checks)

    @property
    def error(self) -> FormError | None:
        """The first problem, in the order of the fields, then any message about the whole form."""
        for field in (self.interval, self.currency, self.amount):
            if field.errors:
                return FormError(field.name, field.errors[0])
        return FormError(None, self.form_errors[0]) if self.form_errors else None

    def choice(self) -> Choice:
        """The validated choice; call only after validate() returned True."""
        if self.amount_minor is None:
            raise RuntimeError("SupportForm.choice() needs a successful validate() first")
        article = self.article.data.strip()
        attempt = self.attempt.data.strip()
        return Choice(
            interval=self.interval.data,
            amount=self.amount_minor,
            currency=self.currency.data,
            cover_fee=self.cover_fee.data,
            article=article if ARTICLE_RE.match(article) and len(article) <= 120 else None,
            attempt=attempt if ATTEMPT_RE.match(attempt) else "",
            card_fee=card_fee(self.currency.data),
        )
