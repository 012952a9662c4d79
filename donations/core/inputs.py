"""One validation layer in front of every view: NUL bytes and oversize values never get in.

Every query argument and form field is checked before any view (or rate-limit key function)
sees it: a NUL byte (PostgreSQL refuses it in text, so it could only end as a 500) or a value
longer than its field's cap is a 400 with the error page. Views then parse typed values with
`choice_arg`, which answers 400 for a value not among the choices.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from flask import Flask, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.routing import IntegerConverter

# Longest value of a field, by name; anything not listed gets DEFAULT_CAP. These are hard
# stops against abuse: fields people type in (names, titles, the article editor) have their
# own, tighter limits in their forms, which show the form again with a message, so that
# nothing typed is lost. Hidden fields, links and search boxes stop here.
DEFAULT_CAP = 1000
FIELD_CAPS = {
    "body_markdown": 200_000,
    "summary": 2000,
    "next": 2000,
    "q": 200,
    "type": 100,
    "session_id": 255,
    "attempt": 64,
}
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Every POST of ours is a browser's form, except Stripe's webhook (a raw, signed body) and the
# emulator's hosted pages. Flask-WTF would read a JSON body as form data too, with numbers,
# lists and nulls where its filters expect strings: any other body is refused with 415.
RAW_BODY_ENDPOINTS = frozenset({"webhooks.stripe_webhook"})
# Beyond any id a column holds (PostgreSQL integer) and any page a listing has.
INT_MAX = 2**31 - 1


class InvalidInput(BadRequest):
    """A request parameter that is not acceptable; the description says which and why."""


def _check(name: str, value: str) -> None:
    if "\x00" in name or "\x00" in value:
        raise InvalidInput(f"The field “{name[:40]}” contains a character we can't accept.")
    if len(value) > FIELD_CAPS.get(name, DEFAULT_CAP):
        raise InvalidInput(f"The field “{name[:40]}” is too long.")


def _check_values(values: Mapping[str, list[str]] | None) -> None:
    for name, items in (values or {}).items():
        for value in items:
            _check(name, value)


def guard_request() -> None:
    """Refuse NUL bytes and oversize values in the path, the query string and form fields."""
    this = request._get_current_object()  # type: ignore[attr-defined]
    if "\x00" in this.path:
        raise InvalidInput("The address contains a character we can't accept.")
    if this.environ.get("QUERY_STRING"):
        _check_values(this.args.to_dict(flat=False))
    mimetype = this.mimetype
    if mimetype in FORM_TYPES:
        _check_values(this.form.to_dict(flat=False))
    elif (
        mimetype
        and this.method not in ("GET", "HEAD", "OPTIONS")
        and this.endpoint not in RAW_BODY_ENDPOINTS
        and this.blueprint != "emulator"
    ):
        raise UnsupportedMediaType("Send this form as a web form, not as JSON or another type.")


def choice_arg(args: Mapping[str, str], name: str, choices: Collection[str]) -> str:
    """A query argument that must be one of `choices` (or absent/empty → "")."""
    raw = (args.get(name) or "").strip()
    if raw and raw not in choices:
        raise InvalidInput(f"“{name}” must be one of: {', '.join(sorted(choices))}.")
    return raw


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in every route: 1 to INT_MAX, so an id no column can hold is a 404."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int = 1, max: int = INT_MAX) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max)


def register_int_converter(app: Flask) -> None:
    """Bound `<int:…>` route ids (guard_request is a hook of the factory's pipeline)."""
    app.url_map.converters["int"] = BoundedIntConverter
