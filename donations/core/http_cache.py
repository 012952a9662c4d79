"""HTTP caching of the public pages: ETag, 304 and Cache-Control, and rendered pages kept.

A request that carries no session (nor remember-me) cookie is an anonymous reader's: the page
is the same for every such reader, so it is answered `public` (a CDN or nginx may keep it for
a few seconds), its ETag names everything it shows, and the rendered page is kept in this
process under that ETag. Anyone with a session gets `private` answers, always: the
after-request guard below rewrites any `public` answer that would reach them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

from flask import Flask, Response, current_app, request, session

from donations.core.front_cache import mark_shareable
from donations.core.readers import reader_cookies

PUBLIC = "public, max-age={max_age}, stale-while-revalidate=60"
PRIVATE = "private, no-cache"
PAGES_KEPT = 256  # rendered pages per process: ~30 KB each, so a few MB at most


class PageCache:
    """Rendered pages by ETag, least recently used first out."""

    def __init__(self, size: int = PAGES_KEPT) -> None:
        self.size = size
        self._pages: OrderedDict[str, bytes] = OrderedDict()

    def get(self, etag: str) -> bytes | None:
        """The page kept under etag, if any."""
        page = self._pages.get(etag)
        if page is not None:
            self._pages.move_to_end(etag)
        return page

    def put(self, etag: str, page: str) -> bytes:
        """Keep a rendered page (encoded once) under etag; return it encoded."""
        encoded = self._pages[etag] = page.encode()
        if len(self._pages) > self.size:
            self._pages.popitem(last=False)
        return encoded


def has_session() -> bool:
    """True when the request's cookies may make it a reader we know (core.readers)."""
    cookies = request.cookies
    if not cookies:
        return False
    config = current_app.config
    return reader_cookies(cookies, config["SESSION_COOKIE_NAME"], config["REMEMBER_COOKIE_NAME"])


def etag_of(*parts: Hashable) -> str:
    """A strong ETag for everything a page shows, and the templates it is made with."""
    key = "\x1f".join(map(str, (current_app.extensions["build_id"], *parts)))
    return hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:20]


def public_page(
    parts: tuple[Hashable, ...],
    render: Callable[[], str],
    *,
    max_age: int = 15,
    mimetype: str = "text/html",
    personal: bool = True,
) -> Response:
    """Answer a GET with the page made by render(), cacheable by anyone when anonymous.

    parts must name everything the page shows (e.g. the article's version and the member
    count): equal parts, equal page. A matching If-None-Match gets 304 without a render.
    `personal=False`: the body never depends on who asks (the JSON, the widget), so shared
    caches need not keep a copy per cookie.
    """
    if has_session():
        response = Response(render(), mimetype=mimetype)
        response.headers["Cache-Control"] = PRIVATE
        return response
    etag = etag_of(*parts)
    mark_shareable()  # the same for every anonymous reader: the front cache may keep it
    cache_control = PUBLIC.format(max_age=max_age)
    pages: PageCache = current_app.extensions["page_cache"]
    # If-None-Match compares weakly (RFC 9110 §13.1.2): a proxy that compresses the page (nginx
    # gzip) hands the browser W/"…", and that must still get a 304.
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    elif (body := pages.get(etag)) is not None:
        response = Response(body, mimetype=mimetype)
    else:
        page = render()
        if session.modified:
            # The page wrote to the session (a form's CSRF token): it is this reader's own,
            # so it is neither kept nor public.
            response = Response(page, mimetype=mimetype)
            response.headers["Cache-Control"] = PRIVATE
            return response
        response = Response(pages.put(etag, page), mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    if personal:  # the same URL shows a personal page to a reader with a session cookie
        response.vary.add("Cookie")
    return response


def _build_id(app: Flask) -> str:
    """A digest of the templates: a deploy that changes a page changes every ETag."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(Path(app.template_folder or "").rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    digest.update(str(sorted(app.extensions.get("static_hashes", {}).items())).encode())
    return digest.hexdigest()[:12]


def init_app(app: Flask) -> None:
    """Give the app its page cache and build id, and the guard on private answers."""
    app.extensions["page_cache"] = PageCache()
    app.extensions["build_id"] = _build_id(app)

    @app.after_request
    def never_public_with_a_session(response: Response) -> Response:
        # Whatever a view said: a reader with a session, or an answer that sets a cookie,
        # must never be stored by a shared cache.
        if "public" in response.headers.get("Cache-Control", "") and (
            has_session() or session.modified or "Set-Cookie" in response.headers
        ):
            response.headers["Cache-Control"] = PRIVATE
        return response
