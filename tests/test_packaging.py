"""The built wheel is a working site on its own: templates, static files and migrations ship.

The wheel is built from this checkout and installed, with its dependencies (pinned to the
versions of the environment running the tests), into a fresh virtualenv outside the checkout.
From a folder where the checkout cannot be imported, that copy then migrates a new database,
seeds the demo articles and serves the home page, an article and a static file.

Slow (pip does most of the work, about half a minute with a warm pip cache; PyPI must be
reachable): skip it with `-m "not packaging"`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
# What a running site reads from disk besides Python modules, as found in the wheel.
SHIPPED = [
    "donations/templates/base.html",
    "donations/templates/articles/home.html",
    "donations/templates/support/index.html",
    "stripe_emulator/templates/emulator/checkout.html",
    "stripe_emulator/static/emulator.css",
    "donations/static/css/site.css",
    "donations/static/js/support.js",
    "donations/migrations/env.py",
    "donations/migrations/alembic.ini",
    "donations/migrations/script.py.mako",
    "donations/accounts/common_passwords.txt",
]

# Runs inside the installed copy: every answer, and where the code and its files came from.
SERVE = """
import json, sys
import donations
from donations import create_app

app = create_app()
client = app.test_client()
home = client.get("/")
article = client.get("/articles/kalvesk-flood-defences-audit")
css = client.get("/static/css/site.css")
print(json.dumps({
    "package": donations.__file__,
    "templates": app.jinja_loader.searchpath,
    "static": app.static_folder,
    "migrations": app.extensions["migrate"].directory,
    "home": [home.status_code, home.get_data(as_text=True)],
    "article": [article.status_code, article.get_data(as_text=True)],
    "css": [css.status_code, css.content_type, len(css.get_data())],
}))
"""


def _run(args: list[str | Path], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def _pins(path: Path) -> Path:
    """Constraints: the versions installed here, so the wheel is tried with the same libraries."""
    names = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != "donations":
            names[name.lower()] = f"{name}=={dist.version}"
    path.write_text("\n".join(sorted(names.values())) + "\n")
    return path


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from this checkout as `pip wheel .` builds it."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--wheel-dir", out, "-q"])
    (built,) = out.glob("donations-*.whl")
    return built


def test_the_wheel_carries_templates_static_files_migrations_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [*SHIPPED]
    expected += [f"donations/{p.relative_to(ROOT)}" for p in ROOT.glob("migrations/versions/*.py")]
    expected += [str(p.relative_to(ROOT)) for p in (ROOT / "donations").glob("articles/demo/*.md")]
    # The emulator's own package, with its templates, once it has moved out of donations/.
    if (ROOT / "stripe_emulator").is_dir():
        expected += [
            str(p.relative_to(ROOT))
            for p in (ROOT / "stripe_emulator").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        ]
    missing = sorted(set(expected) - names)
    assert missing == [], f"not in {wheel.name}: {missing}"
    assert len([n for n in names if n.startswith("donations/articles/demo/")]) >= 5
    assert not [n for n in names if n.startswith(("tests/", "bench/")) or "__pycache__" in n]


def test_an_installed_wheel_migrates_and_serves_pages_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    pip_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    _run([*pip, "install", "-q", "--constraint", _pins(tmp_path / "pins.txt"), wheel], env=pip_env)

    site = tmp_path / "site"  # far from the checkout: nothing can be imported from there
    site.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "APP_ENV": "development",
        "SECRET_KEY": "packaging-test-secret-key",
        "DATABASE_URL": f"sqlite:///{site / 'site.sqlite3'}",
        "INSTANCE_PATH": str(site / "instance"),
    }
    flask = [venv / "bin" / "flask", "--app", "donations:create_app"]
    upgraded = _run([*flask, "db", "upgrade"], cwd=site, env=env)
    assert "Running upgrade" in upgraded.stderr + upgraded.stdout
    _run([*flask, "seed-demo"], cwd=site, env=env)
    served = json.loads(_run([python, "-c", SERVE], cwd=site, env=env).stdout.splitlines()[-1])

    installed = venv / "lib"
    assert Path(served["package"]).is_relative_to(installed), served["package"]
    for folder in (*served["templates"], served["static"], served["migrations"]):
        assert Path(folder).is_relative_to(installed), folder
    status, home = served["home"]
    assert status == 200 and "Kalvesk" in home and "members" in home, home[:2000]
    # Linked under its content-hashed name (donations/core/static.py), hashed from the wheel's file.
    assert re.search(r"/static/css/site\.[0-9a-f]{10}\.css", home), home[:2000]
    status, article = served["article"]
    assert status == 200 and "support-box" in article, article[:2000]
    status, content_type, size = served["css"]
    assert (status, content_type.split(";")[0]) == (200, "text/css") and size > 1000
