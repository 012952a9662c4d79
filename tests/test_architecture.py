"""Boundaries the design notes ask for, checked in the code itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "donations"
# The gateway is the one production module that speaks Stripe; the emulator's HTTP client
# must subclass the SDK's HTTPClient to sit behind it.
ALLOWED = {
    PACKAGE / "payments" / "gateway.py",
    ROOT / "stripe_emulator" / "http_client.py",
}


def _imports_stripe(path: Path) -> bool:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "stripe" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "stripe":
            return True
    return False


def test_only_the_gateway_imports_stripe():
    offenders = [p for p in PACKAGE.rglob("*.py") if _imports_stripe(p) and p not in ALLOWED]
    assert offenders == []
    assert _imports_stripe(PACKAGE / "payments" / "gateway.py")


def test_nothing_imports_the_package_root_but_wsgi_and_tests():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "donations":
                offenders.append(str(path.relative_to(ROOT)))
            if isinstance(node, ast.Import) and any(a.name == "donations" for a in node.names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _loaded_modules_with(settings: str) -> set[str]:
    code = (
        "import sys, json\n"
        "from donations import create_app\n"
        f"create_app({{'TESTING': True, 'SECRET_KEY': 'x', {settings}}})\n"
        "mods = [m for m in sys.modules if m.startswith(('donations', 'stripe_emulator'))]\n"
        "print(json.dumps(sorted(mods)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(__import__("json").loads(result.stdout.strip().splitlines()[-1]))


def test_the_emulator_is_not_even_imported_with_a_stripe_key(tmp_path):
    db = f"'DATABASE_URL': 'sqlite:///{tmp_path}/a.db'"
    with_key = _loaded_modules_with(
        f"{db}, 'STRIPE_SECRET_KEY': 'sk_test_x', 'STRIPE_WEBHOOK_SECRET': 'whsec_x'"
    )
    assert not any(m.startswith("stripe_emulator") for m in with_key)
    without_key = _loaded_modules_with(f"{db}, 'STRIPE_EMULATOR_DB': '{tmp_path}/e.db'")
    assert "stripe_emulator" in without_key
