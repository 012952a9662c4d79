"""Static files under content-hashed names, cached for a year by browsers and CDNs.

`url_for('static', filename='css/site.css')` gives `/static/css/site.<hash>.css` everywhere,
without touching templates: the name changes whenever the file does, so it can be
`immutable`. The plain name is still served (an old page, a hand-typed link), briefly cached.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response

YEAR = 365 * 24 * 3600
HASH_LENGTH = 10


def hashed_name(filename: str, content: bytes) -> str:
    """css/site.css -> css/site.<first 10 hex of its SHA-256>.css."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = filename.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{filename}.{digest}"


def _manifest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashed_name(
            path.relative_to(folder).as_posix(), path.read_bytes()
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def build_id(app: Flask) -> str:
    """A digest of the templates and static files: a deploy that changes a page changes every
    ETag (core/http_cache.py)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(Path(app.template_folder or "").rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    digest.update(str(sorted(app.extensions.get("static_hashes", {}).items())).encode())
    return digest.hexdigest()[:12]


def init_app(app: Flask) -> None:
    """Hash every static file once at start-up; url_for and the static view use the names;
    the build id that public pages' ETags start with."""
    folder = Path(app.static_folder or "")
    names = _manifest(folder) if folder.is_dir() else {}
    originals = {hashed: name for name, hashed in names.items()}
    app.extensions["static_hashes"] = names
    plain_view = app.view_functions["static"]

    def hashed_url(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]

    def static(filename: str) -> Response:
        original = originals.get(filename)
        if original is None:
            return plain_view(filename=filename)
        response = plain_view(filename=original)
        response.cache_control.no_cache = None  # Flask's default for files: revalidate each time
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
        return response

    app.extensions["build_id"] = build_id(app)
    app.url_defaults(hashed_url)
    app.view_functions["static"] = static
