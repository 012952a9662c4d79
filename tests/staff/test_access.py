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
    ("get", "/staff/foreign"),
    ("get", "/staff/foreign/sub_1/adopt"),
    ("post", "/staff/foreign/sub_1/adopt"),
    ("get", "/staff/articles"),
    ("get", "/staff/articles/new"),
    ("post", "/staff/articles/new"),
    ("get", "/staff/articles/1"),
    ("post", "/staff/articles/1"),
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


def test_every_staff_route_is_in_the_list_above(app):
    adapter = app.url_map.bind("localhost")
    listed = {(adapter.match(path, method.upper())[0], method.upper()) for method, path in PAGES}
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("staff.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert listed == routes


@pytest.mark.parametrize("who", ["anonymous", "reader", "staff"])
@pytest.mark.parametrize(("method", "path"), PAGES)
def test_no_staff_answer_may_be_stored_by_a_browser_or_a_proxy(client, db, method, path, who):
    if who != "anonymous":
        login(client, make_user(is_staff=who == "staff"))
    response = getattr(client, method)(path)
    response.get_data()  # read the streamed CSV to its end
    assert response.headers["Cache-Control"] == "private, no-store"
