"""Every staff page is for staff only: anonymous people log in first, readers get a 403."""

from __future__ import annotations

import pytest

from tests.factories import login, make_user

PAGES = [
    ("get", "/staff/"),
    ("get", "/staff/members"),
    ("get", "/staff/members.csv"),
    ("get", "/staff/members/1"),
    ("get", "/staff/events"),
    ("get", "/staff/events/evt_1"),
    ("post", "/staff/events/evt_1/replay"),
    ("get", "/staff/articles"),
    ("get", "/staff/articles/new"),
    ("post", "/staff/articles/new"),
    ("get", "/staff/articles/1"),
    ("post", "/staff/articles/1/publish"),
    ("post", "/staff/articles/1/unpublish"),
]


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_anonymous_people_are_sent_to_log_in(client, db, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_readers_are_refused(client, db, method, path):
    login(client, make_user())
    assert getattr(client, method)(path).status_code == 403
