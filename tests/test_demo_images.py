"""The demo articles' images are served by the site itself: none points at a dead address."""

from __future__ import annotations

import re

from donations.cli import DEMO_DIR


def test_every_demo_image_is_a_file_this_site_serves(client):
    images = [
        src
        for path in sorted(DEMO_DIR.glob("*.md"))
        for src in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", path.read_text(encoding="utf-8"))
    ]
    assert images
    for src in images:
        assert src.startswith("/static/"), src
        response = client.get(src)
        response.close()  # a file response: its handle closes with it
        assert response.status_code == 200 and response.content_type.startswith("image/"), src
