"""Where to send someone after login: only to a path on this site (no open redirects)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def safe_next(target: str | None) -> str | None:
    """Return `target` when it is a local path such as /account?x=1, otherwise None."""
    if not target or not target.startswith("/"):
        return None
    # Browsers drop tabs and newlines and treat "\" like "/", so "/\t/evil" and "/\evil"
    # would leave the site.
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    # Refuse "//host" and backslashes also when percent-encoded, in case something decodes.
    if any(c.startswith("//") or "\\" in c for c in (target, unquote(target))):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
