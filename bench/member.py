"""The `member` target: an article read by a logged-in member, with a real session cookie.

The member is one of the seeded ones, given a login by seed.py. Once the app serves, we log
in through the real form (GET /login for the CSRF token, POST it with the password), as a
browser does; the session cookie that comes back names a server-side login session. wrk
then sends that cookie and the same User-Agent (bench/lua/member.lua).
"""

from __future__ import annotations

import http.client
import re
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

from seed import MEMBER_PASSWORD

AGENT = "bench-member/1.0"


def _request(
    base_url: str, method: str, path: str, cookies: dict[str, str], body: str | None = None
) -> tuple[int, dict[str, str], list[str], str]:
    """One request without following redirects; returns status, headers, cookies set, body."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"User-Agent": AGENT}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        set_cookies = response.headers.get_all("Set-Cookie") or []
        return response.status, dict(response.headers), set_cookies, text
    finally:
        conn.close()


def _keep(cookies: dict[str, str], set_cookies: list[str]) -> None:
    for line in set_cookies:
        name, _, value = line.split(";", 1)[0].partition("=")
        if "expires=thu, 01 jan 1970" in line.lower():  # deleted, as a browser drops it
            # (logging in moves the form token's anon_session into the session cookie)
            cookies.pop(name.strip(), None)
        else:
            cookies[name.strip()] = value.strip()


def log_in(base_url: str, email: str) -> str:
    """Log in through the form; return the Cookie header of the logged-in browser."""
    cookies: dict[str, str] = {}
    status, _, set_cookies, page = _request(base_url, "GET", "/login", cookies)
    _keep(cookies, set_cookies)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if status != 200 or token is None:
        raise RuntimeError(f"member: GET /login answered {status} without a CSRF token")
    form = {"email": email, "password": MEMBER_PASSWORD, "csrf_token": unescape(token.group(1))}
    status, headers, set_cookies, _ = _request(base_url, "POST", "/login", cookies, urlencode(form))
    if status not in (302, 303) or not set_cookies:
        raise RuntimeError(f"member: POST /login answered {status}, not a redirect with a cookie")
    _keep(cookies, set_cookies)
    # Follow the redirect as a browser does: the page shows (and so drops) the login message.
    location = urlsplit(headers.get("Location", "/account"))
    status, _, set_cookies, _ = _request(base_url, "GET", location.path or "/", cookies)
    if status != 200:
        raise RuntimeError(f"member: the page after logging in answered {status}")
    _keep(cookies, set_cookies)
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def check(ctx: Any, target: Any) -> None:
    """Log in, then GET the article as the member: their page, nothing for everyone else."""
    if not ctx.seed.get("member_email"):
        raise RuntimeError("member: needs --members > 0 (the member is a seeded one)")
    cookie = log_in(ctx.base_url, ctx.seed["member_email"])
    ctx.env["BENCH_MEMBER_COOKIE"] = cookie
    ctx.env["BENCH_MEMBER_AGENT"] = AGENT
    cookies = dict(part.split("=", 1) for part in cookie.split("; "))
    path = target.path.format(**ctx.seed)
    status, headers, set_cookies, page = _request(ctx.base_url, "GET", path, cookies)
    wanted = [ctx.seed["sample_title"], "Thank you for being a member", "Log out"]
    missing = [w for w in wanted if w not in page and w not in unescape(page)]
    if status != 200 or missing:
        raise RuntimeError(f"member: GET {path} answered {status}, without {missing}")
    if "Keep this journalism free" in page or "public" in headers.get("Cache-Control", ""):
        raise RuntimeError(f"member: GET {path} showed the ask or was public")
    if set_cookies:
        # A logged-in read should not rewrite the session each time (a sign of a lost login).
        raise RuntimeError(f"member: GET {path} set cookies again: {set_cookies}")
