"""The page cache: public pages for anonymous readers, in one place.

Who is anonymous: no `session` and no `remember_token` cookie (core/sessions.py, the same regex
as nginx's micro-cache). Such a reader gets from `public_page` a `public` answer with a
max-age and a strong ETag naming everything the page shows (304 for a matching If-None-Match,
compared weakly: nginx's gzip hands the browser W/"…"). Anyone else gets `private, no-cache`,
and so does a page whose making wrote to the session (a form's CSRF token): the guard
`never_public_with_a_session`, the first after-request hook of the pipeline.

`PageCache`, a WSGI layer in front of Flask (FRONT_CACHE, on by default), keeps such an answer
and gives it again without entering Flask: only a plain anonymous GET or HEAD (no query
string, no body, no conditional header but If-None-Match) answered 200 by `public_page` with
`public`, a max-age, a strong ETag and no Set-Cookie. A kept page lives at most
min(max-age, CACHE_SECONDS), never past the moment the cached numbers it shows stop being
current (`Cache.watched_until`), and every kept page goes when this process's data cache drops
a key (`Cache.generation`): the commit of a new member count or article. A hit is answered as
Flask answers: same status, headers and body, a fresh X-Request-ID, one access line and the
request metrics (core/logs.py and core/metrics.py's own functions); 304 and HEAD as Flask.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request, session
from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import (
    HTTP_STATUS_CODES,
    parse_cache_control_header,
    parse_etags,
    remove_entity_headers,
    unquote_etag,
)
from werkzeug.wsgi import ClosingIterator

from donations.core.logs import log_access, new_request_id
from donations.core.sessions import is_anonymous

PUBLIC = "public, max-age={max_age}, stale-while-revalidate=60"
PRIVATE = "private, no-cache"
MAX_ENTRIES = 256  # pages per process (a page is ~30 KB; the feed ~300 KB)
MAX_BYTES = 32 * 1024 * 1024
MAX_ENTRY_BYTES = 4 * 1024 * 1024
# environ key: set by public_page, the only maker of the answers kept here
SHAREABLE = "donations.page_cache"
# Answered by Flask alone: only public_page's If-None-Match match is repeated here.
OTHER_CONDITIONS = ("HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_MATCH")
OTHER_CONDITIONS += ("HTTP_IF_RANGE", "HTTP_RANGE")
NOT_MODIFIED = f"304 {HTTP_STATUS_CODES[304].upper()}"  # werkzeug's own status line
REQUEST_ID = "X-Request-ID"

Headers = list[tuple[str, str]]
StartResponse = Callable[..., Any]


def etag_of(*parts: Hashable) -> str:
    """A strong ETag for everything a page shows, and the templates it is made with
    (core/static.py's build id)."""
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
    """Answer a GET with the page made by render(), public (and kept) when anonymous.

    parts must name everything the page shows (e.g. the article's version and the member
    count): equal parts, equal page. A matching If-None-Match gets 304 without a render.
    `personal=False`: the body never depends on who asks (the JSON, the widget), so shared
    caches need not keep a copy per cookie.
    """
    if not is_anonymous(request.headers.get("Cookie")):
        return _private(render(), mimetype)
    etag = etag_of(*parts)
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        # A page that writes to the session (a form's CSRF token) is this reader's own: the
        # after-request guard below makes it private, and the page cache keeps no Set-Cookie.
        response = Response(render(), mimetype=mimetype)
        rule = request.url_rule  # the page cache may keep this answer (see _fill)
        request.environ[SHAREABLE] = (rule.rule if rule is not None else None, request.path)
    response.set_etag(etag)
    response.headers["Cache-Control"] = PUBLIC.format(max_age=max_age)
    if personal:  # the same URL shows a personal page to a reader with a session cookie
        response.vary.add("Cookie")
    return response


def _private(page: str, mimetype: str) -> Response:
    response = Response(page, mimetype=mimetype)
    response.headers["Cache-Control"] = PRIVATE
    return response


def never_public_with_a_session(response: Response) -> Response:
    """After-request hook: whatever a view said, a known reader's answer, or one that sets a
    cookie, is never `public` (a shared cache must not keep it)."""
    if "public" in response.headers.get("Cache-Control", "") and (
        not is_anonymous(request.headers.get("Cookie"))
        or session.modified
        or "Set-Cookie" in response.headers
    ):
        response.headers["Cache-Control"] = PRIVATE
    return response


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored answer: the headers around X-Request-ID, for 200 and for 304."""

    expires: float  # time.time()
    status: str
    before_id: Headers
    after_id: Headers
    before_id_304: Headers
    after_id_304: Headers
    body: bytes
    etag: str
    route: str | None
    path: str


class PageCache:
    """WSGI middleware answering anonymous GET and HEAD of public pages from stored copies."""

    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        cache: Any,
        metrics: Any,
        *,
        seconds: float,
        trusted_proxies: int = 0,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.cache = cache  # core.cache.Cache: its generation and expiries rule ours
        self.metrics = metrics
        self.seconds = seconds
        self.trusted_proxies = trusted_proxies
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        self._bytes = 0
        self._generation = cache.generation
        self._lock = threading.Lock()  # gthread workers: one writer at a time

    def __len__(self) -> int:
        """How many pages are stored."""
        return len(self._entries)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer from a stored copy when the request allows it; else Flask (and maybe keep)."""
        started = time.perf_counter()
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        entry = self._lookup(key)
        if entry is not None:
            return self._answer(entry, environ, start_response, started)
        if environ["REQUEST_METHOD"] != "GET":  # HEAD: Flask sends no body that could be kept
            return self.wsgi_app(environ, start_response)
        return self._fill(key, environ, start_response)

    def clear(self) -> None:
        """Forget every stored page."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _key(self, environ: dict[str, Any]) -> tuple[str, ...] | None:
        # Anything else a request carries bypasses or cannot change the answer: the body
        # limits and the input guard look at bodies, query arguments (both bypass) and the
        # path (the key, kept only from a 200 that passed them): a hit skips no refusal.
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return None
        if (
            environ.get("CONTENT_LENGTH", "") not in ("", "0")
            or "HTTP_TRANSFER_ENCODING" in environ
        ):
            return None
        for name in OTHER_CONDITIONS:
            if name in environ:
                return None
        if not is_anonymous(environ.get("HTTP_COOKIE")):  # as public_page and nginx
            return None
        host = environ.get("HTTP_HOST") or environ["SERVER_NAME"] + ":" + environ["SERVER_PORT"]
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        return host, environ["wsgi.url_scheme"], path

    def _lookup(self, key: tuple[str, ...]) -> Entry | None:
        generation = self.cache.generation
        if generation != self._generation:
            # The app cache dropped a key (a commit changed the count or the articles).
            with self._lock:
                self._entries.clear()
                self._bytes = 0
                self._generation = generation
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        with self._lock:
            if entry.expires <= time.time():
                if self._entries.get(key) is entry:
                    del self._entries[key]
                    self._bytes -= len(entry.body)
                return None
            if key in self._entries:
                self._entries.move_to_end(key)  # least recently used goes first
        return entry

    def _answer(
        self, entry: Entry, environ: dict[str, Any], start_response: StartResponse, started: float
    ) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = new_request_id(given, self.trusted_proxies)  # as core.logs does
        matches = environ.get("HTTP_IF_NONE_MATCH")
        if matches and parse_etags(matches).contains_weak(entry.etag):  # as public_page
            status, code, body = NOT_MODIFIED, 304, b""
            headers = [*entry.before_id_304, (REQUEST_ID, request_id), *entry.after_id_304]
        else:
            status, code = entry.status, 200
            body = b"" if method == "HEAD" else entry.body
            headers = [*entry.before_id, (REQUEST_ID, request_id), *entry.after_id]
        start_response(status, headers)
        remote_addr = environ.get("REMOTE_ADDR")
        log_access(method, entry.path, entry.route, code, started, remote_addr, request_id)
        route = entry.route or "unmatched"
        self.metrics.observe(route, method, code, time.perf_counter() - started)
        return [body]

    def _fill(
        self, key: tuple[str, ...], environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        generation = self.cache.generation
        self.cache.watch()
        seen: list[Any] = []

        def remember(status: str, headers: Headers, exc_info: Any = None) -> Any:
            seen[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, remember)
        shareable = environ.get(SHAREABLE)
        if shareable is None or not seen:
            return body
        found = self._storable(*seen)
        if found is None:
            return body
        seconds, etag, length = found
        close = getattr(body, "close", None)
        try:
            data = b"".join(body)  # Flask's body is already made: this waits for nothing
        except BaseException:
            if close is not None:
                close()
            raise
        # The original's close() still runs when the server is done with the answer.
        answer = ClosingIterator([data], close)
        expires = min(time.time() + seconds, self.cache.watched_until())
        fresh = self.cache.generation == generation and expires > time.time()
        if fresh and len(data) == length:
            # A drop that overtook this request means the page may show the old numbers.
            self._store(key, generation, _entry(expires, *seen, data, etag, shareable))
        return answer

    def _storable(self, status: str, headers: Headers) -> tuple[float, str, int] | None:
        """(seconds to keep, ETag, Content-Length) of an answer anyone may get, else None."""
        if not status.startswith("200 "):
            return None
        shared_seconds, etag, length, vary = 0, None, None, []
        for name, value in headers:
            lower = name.lower()
            if lower == "set-cookie":
                return None
            if lower == "cache-control":
                shared_seconds = _shared_seconds(value)
            elif lower == "etag":
                etag = unquote_etag(value)
            elif lower == "content-length":
                length = int(value) if value.isdigit() else None
            elif lower == "vary":
                vary += [part.strip().lower() for part in value.split(",")]
        # Cookie is the only Vary we key on (a session cookie bypasses; others don't count).
        if any(part not in ("cookie", "") for part in vary):
            return None
        if etag is None or etag[1] or length is None or length > self.max_entry_bytes:
            return None  # no strong ETag, or a streamed or very large body
        seconds = min(shared_seconds, self.seconds)
        return (seconds, etag[0], length) if seconds > 0 else None

    def _store(self, key: tuple[str, ...], generation: int, entry: Entry) -> None:
        with self._lock:
            if self._generation != generation or self.cache.generation != generation:
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)


@functools.lru_cache(maxsize=64)  # a handful of distinct values; parsing each costs ~10 µs
def _shared_seconds(cache_control: str) -> int:
    """How long a shared cache may keep an answer with this Cache-Control (0: not at all)."""
    parsed = parse_cache_control_header(cache_control, cls=ResponseCacheControl)
    if not parsed.public or parsed.private or parsed.no_store or parsed.no_cache:
        return 0
    return parsed.s_maxage or parsed.max_age or 0


def _split_at_request_id(headers: Headers) -> tuple[Headers, Headers]:
    """The headers before and after X-Request-ID (which each answer gets afresh)."""
    for at, (name, _) in enumerate(headers):
        if name.lower() == "x-request-id":
            return headers[:at], headers[at + 1 :]
    return list(headers), []


def _entry(
    expires: float, status: str, headers: Headers, body: bytes, etag: str, shareable: Any
) -> Entry:
    route, path = shareable  # as public_page wrote them
    before, after = _split_at_request_id(headers)
    # Flask's 304 is the same answer without its entity headers (werkzeug's own rule).
    not_modified = list(headers)
    remove_entity_headers(not_modified)
    before_304, after_304 = _split_at_request_id(not_modified)
    return Entry(expires, status, before, after, before_304, after_304, body, etag, route, path)


def init_app(app: Flask) -> None:
    """Put the page cache around Flask when FRONT_CACHE is on (before ProxyFix wraps it)."""
    if not app.config["FRONT_CACHE"]:
        return
    pages = PageCache(
        app.wsgi_app,
        app.extensions["cache"],
        app.extensions["metrics"],
        seconds=app.config["CACHE_SECONDS"],
        trusted_proxies=app.config["TRUSTED_PROXIES"],
    )
    app.extensions["page_cache"] = pages
    app.wsgi_app = pages  # type: ignore[method-assign]
