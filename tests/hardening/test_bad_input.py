"""Every form field and route parameter, given hostile or careless input, gets a 4xx.

Each case sends one bad value (NUL bytes, oversize, wrong type, out of range) in one field
while the others are valid, and checks: a 4xx with an HTML page or a JSON error, no new row
in any table, and nothing logged at ERROR.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from donations.extensions import db as _db
from tests.factories import login, make_article, make_user

NUL = "ab\x00cd"
NUMBERS_OUT_OF_RANGE = ["1e999999", "2147483648", "-1", "99999999999999999999", "0"]
WRONG_TYPES = ["abc", "1.5.5", "[]"]
# Dates whose UTC time falls outside the calendar, and dates that don't exist.
CALENDAR_EDGES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-02-30", "0"]


@dataclass(frozen=True)
class Field:
    """A field, what a good value is, and what kind of value it takes."""

    name: str
    good: str
    kind: str = "text"  # text | number | page | choice | date
    max_length: int = 1000


@dataclass(frozen=True)
class Form:
    """A form (or a query string) of a route, and who may use it."""

    method: str
    path: str
    fields: tuple[Field, ...]
    who: str = "anyone"  # anyone | staff


def bad_values(field: Field) -> list[tuple[str, str]]:
    """(label, value) pairs that this field must refuse."""
    values = [("nul", NUL), ("oversize", "x" * (field.max_length + 1))]
    if field.kind == "number":
        values += [(f"range:{v}", v) for v in NUMBERS_OUT_OF_RANGE]
        values += [(f"type:{v}", v) for v in WRONG_TYPES]
    elif field.kind == "page":  # a whole number from 1 (past the last page: a 404)
        values += [(f"type:{v}", v) for v in [*WRONG_TYPES, "1e999999", "\uff11"]]
        values += [(f"range:{v}", v) for v in ["0", "-1", "99999999999999999999"]]
    elif field.kind == "date":
        values += [(f"date:{v}", v) for v in CALENDAR_EDGES]
    elif field.kind == "choice":
        values += [("unknown", "bogus"), ("number", "2147483648")]
    return values


SUPPORT_FIELDS = (
    Field("interval", "once", "choice"),
    Field("amount", "10", "number"),
    Field("currency", "usd", "choice"),
    Field("custom_amount", "", "text"),
    Field("cover_fee", "y", "text"),
    Field("article", "story-1", "text"),
    Field("attempt", "attempt-token-0123456789", "text", 64),
)
ARTICLE_FIELDS = (
    Field("title", "A title", "text", 300),
    Field("slug", "a-slug", "text", 120),
    Field("summary", "A summary.", "text", 500),
    Field("author", "Ada", "text", 200),
    Field("body_markdown", "Some *text*.", "text", 200_000),
    Field("published_at", "2026-11-20T09:30:00Z", "date", 100),
    Field("published", "y", "text"),
)
MEMBER_FILTERS = (
    Field("q", "ada", "text", 200),
    Field("status", "member", "choice"),
    Field("interval", "month", "choice"),
    Field("currency", "usd", "choice"),
)

FORMS = [
    Form(
        "POST",
        "/signup",
        (
            Field("email", "new@example.org", "text", 320),
            Field("password", "a perfectly fine passphrase", "text", 1000),
            Field("name", "Ada", "text", 200),
        ),
    ),
    Form(
        "POST",
        "/login",
        (
            Field("email", "nobody@example.org", "text", 320),
            Field("password", "a perfectly fine passphrase", "text", 1000),
            Field("remember", "y", "text"),
        ),
    ),
    Form("GET", "/login", (Field("next", "/account", "text", 2000),)),
    Form("GET", "/signup", (Field("next", "/account", "text", 2000),)),
    Form("POST", "/password/forgot", (Field("email", "nobody@example.org", "text", 320),)),
    Form("POST", "/password/reset/sometoken", (Field("password", "a new passphrase", "text"),)),
    Form("POST", "/support/checkout", SUPPORT_FIELDS),
    Form("GET", "/support", SUPPORT_FIELDS),
    Form("GET", "/support/thanks", (Field("session_id", "cs_test_1", "text", 255),)),
    Form("GET", "/", (Field("page", "1", "page"),)),
    Form("GET", "/staff/", (Field("range", "30", "choice"),), "staff"),
    Form("GET", "/staff/members", (*MEMBER_FILTERS, Field("page", "1", "page")), "staff"),
    Form("GET", "/staff/members.csv", MEMBER_FILTERS, "staff"),
    Form(
        "GET",
        "/staff/events",
        (
            Field("type", "invoice.paid", "text", 100),
            Field("status", "failed", "choice"),
            Field("page", "1", "page"),
        ),
        "staff",
    ),
    Form("GET", "/staff/articles", (Field("page", "1", "page"),), "staff"),
    Form("POST", "/staff/articles/new", ARTICLE_FIELDS, "staff"),
    Form("POST", "/staff/articles/{article}", ARTICLE_FIELDS, "staff"),
]

# Route parameters: a path with one placeholder, and the kind of value it takes.
ROUTES = [
    ("GET", "/articles/{}", "text", "anyone"),
    ("GET", "/password/reset/{}", "text", "anyone"),
    ("POST", "/password/reset/{}", "text", "anyone"),
    ("GET", "/staff/members/{}", "number", "staff"),
    ("GET", "/staff/events/{}", "text", "staff"),
    ("POST", "/staff/events/{}/replay", "text", "staff"),
    ("GET", "/staff/articles/{}", "number", "staff"),
    ("POST", "/staff/articles/{}", "number", "staff"),
    ("POST", "/staff/articles/{}/publish", "number", "staff"),
    ("POST", "/staff/articles/{}/unpublish", "number", "staff"),
]


def _field_cases():
    for form in FORMS:
        for field in form.fields:
            for label, value in bad_values(field):
                case_id = f"{form.method} {form.path} {field.name}={label}"
                yield pytest.param(form, field.name, value, id=case_id)


def _route_cases():
    for method, path, kind, who in ROUTES:
        for label, value in bad_values(Field("param", "1", kind, 255)):
            yield pytest.param(method, path, value, who, id=f"{method} {path} {label}")


def _row_counts() -> dict[str, int]:
    counts = {}
    for table in _db.metadata.sorted_tables:
        counts[table.name] = _db.session.scalar(select(func.count()).select_from(table))
    return counts


@pytest.fixture
def world(client, db):
    """An article to edit, and a client logged in as staff when the case asks."""
    article = make_article(slug="story-1")
    staff = make_user(email="editor@example.org", is_staff=True)
    return {"article": article.id, "staff": staff}


def _send(client, method: str, path: str, data: dict[str, str]):
    if method == "GET":
        return client.get(path, query_string=data)
    return client.post(path, data=data)


def _check(response, before: dict[str, int], caplog) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.data[:300])
    body = response.get_data(as_text=True)
    if response.mimetype == "application/json":
        assert "error" in response.json
    else:
        assert "<html" in body, body[:300]
    _db.session.rollback()
    # Logins write a row on success only, and nothing here may succeed.
    assert _row_counts() == before
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize(("form", "name", "value"), list(_field_cases()))
def test_a_bad_form_field_gets_a_4xx_and_changes_nothing(client, world, caplog, form, name, value):
    if form.who == "staff":
        login(client, world["staff"])
    data = {f.name: f.good for f in form.fields}
    data[name] = value
    path = form.path.format(article=world["article"])
    before = _row_counts()
    with caplog.at_level(logging.WARNING):
        response = _send(client, form.method, path, data)
    _check(response, before, caplog)


@pytest.mark.parametrize(("method", "path", "value", "who"), list(_route_cases()))
def test_a_bad_route_parameter_gets_a_4xx_and_changes_nothing(
    client, world, caplog, method, path, value, who
):
    if who == "staff":
        login(client, world["staff"])
    before = _row_counts()
    with caplog.at_level(logging.WARNING):
        response = _send(client, method, path.format(quote(value, safe="")), {})
    _check(response, before, caplog)


# Numbers, lists and nulls where a form has strings: what a JSON body brings (the trial found
# `{"amount": 5}` to /support/checkout answering 500).
JSON_BODIES = [{"amount": 5}, {"custom_amount": [1, 2]}, {"currency": None}, {"email": {}}]


@pytest.mark.parametrize("body", JSON_BODIES, ids=lambda body: str(body))
@pytest.mark.parametrize(
    "form", [f for f in FORMS if f.method == "POST"], ids=lambda f: f"{f.method} {f.path}"
)
def test_a_json_body_to_a_form_gets_415_and_changes_nothing(client, world, caplog, form, body):
    if form.who == "staff":
        login(client, world["staff"])
    path = form.path.format(article=world["article"])
    before = _row_counts()
    with caplog.at_level(logging.WARNING):
        # A browser's Origin, so that the support box's CSRF check is not what refuses it.
        response = client.post(path, json=body, headers={"Origin": "http://localhost"})
    assert response.status_code == 415
    _check(response, before, caplog)
