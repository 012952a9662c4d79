"""Every paginated listing: a page below 1 is a 400, a page past the last a 404, both as pages."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_article
from tests.staff.factories import make_supporter, store, subscription_event

# Each listing, and how to put one row into it.
LISTINGS = {
    "/": lambda: make_article(title="Only story"),
    "/staff/members": lambda: make_supporter("Only supporter"),
    "/staff/events": lambda: store(subscription_event("evt_only"), "processed"),
    "/staff/articles": lambda: make_article(title="Only draft", published=False),
}


@pytest.fixture(params=list(LISTINGS))
def listing(request, staff_client):
    """(path, client): the home page as an anonymous reader sees it, the rest as staff."""
    path = request.param
    app = request.getfixturevalue("app")
    return path, (app.test_client() if path == "/" else staff_client)


def _title(response) -> str:
    return re.search(r"<title>([^<]*)</title>", response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("page", ["0", "-1", "-3", "000"])
def test_a_page_below_one_is_a_400_with_the_error_page(listing, page):
    path, client = listing
    response = client.get(f"{path}?page={page}")
    assert response.status_code == 400
    assert _title(response).startswith("We couldn't use what was sent (400)")
    assert "“page” must be a whole number, 1 or more." in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["2", "99999", "1000001", "9223372036854775807"])
def test_a_page_past_the_last_is_a_404_with_the_error_page(listing, page):
    path, client = listing
    LISTINGS[path]()
    assert client.get(f"{path}?page=1").status_code == 200
    response = client.get(f"{path}?page={page}")
    assert response.status_code == 404
    assert _title(response).startswith("We can't find that page (404)")


@pytest.mark.parametrize("page", [None, "", "1", "01"])
def test_page_one_of_an_empty_listing_is_a_200(listing, page):
    path, client = listing
    args = {} if page is None else {"page": page}
    if path == "/staff/members":
        args["q"] = "nobody-at-all"  # the staff account doing the search is a supporter too
    response = client.get(path, query_string=args)
    assert response.status_code == 200


def test_the_last_page_of_the_home_page_is_shown_and_the_next_is_a_404(app, client, db):
    app.config["ARTICLES_PER_PAGE"] = 2
    titles = [make_article(title=f"Paged story {n}").title for n in range(3)]
    last = client.get("/?page=2")
    assert last.status_code == 200
    assert titles[0] in last.get_data(as_text=True) and "Page 2 of 2" in last.get_data(as_text=True)
    assert client.get("/?page=3").status_code == 404
