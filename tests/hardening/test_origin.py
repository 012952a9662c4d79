"""The support box's token-less POST is taken only from this site's own pages: the Origin (or
Referer) is parsed strictly as scheme, host and port, and anything odd about it refuses it."""

from __future__ import annotations

import pytest

BOX = {"interval": "month", "currency": "usd", "preset_month": "8"}


@pytest.mark.parametrize(
    ("site", "origin", "status"),
    [
        ("https://news.example", "https://news.example", 303),
        ("https://news.example", "https://news.example:443", 303),  # the default port, named
        ("https://news.example", "https://NEWS.example", 303),  # host names ignore case
        # Another scheme is another site, though host and port read alike.
        ("https://news.example", "http://news.example", 400),
        ("http://news.example", "https://news.example", 400),
        ("https://news.example:8443", "http://news.example:8443", 400),
        # User information: some parsers take the part before "@" as the host, some after.
        ("http://localhost", "http://evil.com@localhost", 400),
        ("https://news.example", "https://evil.example@news.example", 400),
        ("https://news.example", "https://news.example:443@evil.example", 400),
        ("http://localhost", "http://user:password@localhost", 400),
        ("https://news.example", "https://news.example\\@evil.example", 400),
        ("https://news.example", "https://evil.example\\news.example", 400),
        ("https://news.example", "https://news.example.evil.example", 400),
        ("https://news.example", "https://news%2Eexample", 400),
        ("https://news.example", "null", 400),  # what a sandboxed page or a redirect sends
        ("https://news.example", "news.example", 400),
        ("https://news.example", "https://", 400),
        ("https://news.example", "https://news.example:99999", 400),
    ],
)
def test_only_this_sites_own_origin_may_post_the_box(make_app, db, site, origin, status):
    app = make_app(WTF_CSRF_ENABLED=True, SITE_URL=site)
    answer = app.test_client().post("/support/checkout", data=BOX, headers={"Origin": origin})
    assert answer.status_code == status


def test_a_referer_with_an_address_in_its_query_is_still_this_site(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True, SITE_URL="https://news.example")
    referer = "https://news.example/articles/x?from=reader@example.org"
    answer = app.test_client().post("/support/checkout", data=BOX, headers={"Referer": referer})
    assert answer.status_code == 303
