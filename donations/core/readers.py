"""Whether a request's cookies may make its reader someone we know, from the cookies alone.

Read by `http_cache.has_session` (public or private answers) and by the front cache (kept
copies or Flask), so both draw the line in the same place, before any session is opened.
"""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Mapping

from itsdangerous import BadData
from itsdangerous.encoding import base64_decode

# What an anonymous reader's session may hold: a form's CSRF token, the key that makes a
# support payment idempotent, and what Flask-Login leaves after logging out.
ANONYMOUS_SESSION_KEYS = frozenset(("csrf_token", "visitor", "_fresh", "_permanent"))


def reader_cookies(cookies: Mapping[str, str], session_name: str, remember_name: str) -> bool:
    """Whether these cookies may make the reader someone we know (a page may be personal).

    A remember-me cookie may log the reader in. A session cookie counts only when it holds
    more than an anonymous reader's keys: anyone who opened a form or paid carries one, and
    public pages must stay public for them (every payer would otherwise miss every cache).
    """
    if remember_name in cookies:
        return True
    value = cookies.get(session_name)
    return value is not None and _session_may_name_a_reader(value)


@functools.lru_cache(maxsize=1024)
def _session_may_name_a_reader(cookie: str) -> bool:
    """Read Flask's signed session cookie WITHOUT checking its signature; True when unsure.

    Safe unverified: a forged cookie that looks anonymous only gets the page every anonymous
    reader gets; one that looks known goes to Flask, which checks the signature.
    """
    payload = cookie.rsplit(".", 2)[0]  # itsdangerous: payload.timestamp.signature
    try:
        data = base64_decode(payload.lstrip("."))
        if payload.startswith("."):  # compressed; a cookie is a few KB, so is its content
            data = zlib.decompressobj().decompress(data, 16 * 1024)
        keys = json.loads(data)
    except (ValueError, zlib.error, BadData):
        return True
    return not (isinstance(keys, dict) and keys.keys() <= ANONYMOUS_SESSION_KEYS)
