"""Pages that carry something of one reader's are kept by no shared cache: the thanks page
(the payer's email address) by nothing at all, the support form (its CSRF token) privately."""

from __future__ import annotations

import re

from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import parse_cache_control_header

from tests.factories import pay_membership


def _cache_control(response) -> ResponseCacheControl:
    header = response.headers.get("Cache-Control")
    return parse_cache_control_header(header, cls=ResponseCacheControl)


def test_the_thanks_page_showing_the_payers_email_is_never_stored(client, db, emulator):
    session_id = pay_membership(client, emulator, email="payer@example.org")
    response = client.get(f"/support/thanks?session_id={session_id}")
    assert response.status_code == 200 and "payer@example.org" in response.get_data(True)
    assert _cache_control(response).no_store, response.headers.get("Cache-Control")
    poll = client.get(f"/support/thanks/status?session_id={session_id}")
    assert _cache_control(poll).no_store


def test_the_support_form_is_private_and_looked_at_again(make_app, db):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = None
    for path in ("/support", "/support?interval=once"):
        response = client.get(path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(True))[1]
        control = _cache_control(response)
        assert control.private and control.no_cache and not control.public, path
    refused = client.post(
        "/support/checkout", data={"interval": "once", "amount": "abc", "csrf_token": token}
    )
    assert refused.status_code == 400 and 'name="csrf_token"' in refused.get_data(True)
    assert _cache_control(refused).private
