"""Share links for the thanks page: plain links, no third-party script on our pages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class ShareLink:
    """One place to share: its name and the URL that opens it with our text filled in."""

    name: str
    url: str


def share_links(url: str, site_name: str) -> list[ShareLink]:
    """Links that share `url` with a line about supporting the site."""
    text = f"I support {site_name}: independent journalism, free for everyone to read."
    both = f"{text} {url}"
    mail = urlencode({"subject": site_name, "body": f"{text}\n{url}"}, quote_via=quote)
    return [
        ShareLink("Email", "mailto:?" + mail),
        ShareLink("Bluesky", "https://bsky.app/intent/compose?" + urlencode({"text": both})),
        ShareLink("X", "https://x.com/intent/post?" + urlencode({"text": text, "url": url})),
        ShareLink("Facebook", "https://www.facebook.com/sharer.php?" + urlencode({"u": url})),
        ShareLink("WhatsApp", "https://wa.me/?" + urlencode({"text": both})),
    ]
