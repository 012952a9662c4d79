"""`make run PORT=…` writes the address it serves on into the .env it creates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_new_env_file_names_the_port_make_run_serves_on(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    subprocess.run(
        ["make", "-f", str(ROOT / "Makefile"), ".env", "PORT=5111"],
        cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    lines = (tmp_path / ".env").read_text().splitlines()
    assert [line for line in lines if line.startswith("SITE_URL=")] == [
        "SITE_URL=http://127.0.0.1:5111"
    ]
    rest = [line for line in lines if not line.startswith("SITE_URL=")]
    assert rest == [
        line for line in (ROOT / ".env.example").read_text().splitlines()
        if not line.startswith("SITE_URL=")
    ]  # fmt: skip
