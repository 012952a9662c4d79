"""deploy/: the nginx site passes `nginx -t` and does what it says in front of the app; the
gunicorn config loads."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "donations.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

needs_nginx = pytest.mark.skipif(
    not Path(NGINX).exists() and not os.environ.get("REQUIRE_NGINX"),
    reason="nginx is not installed (apt-get install nginx-light)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_conf(tmp: Path, upstream: str = "127.0.0.1:8000", port: int = 8080) -> Path:
    """A main nginx.conf around the site file, with its paths pointed at this checkout."""
    site = SITE.read_text()
    site = site.replace("/srv/donations", str(ROOT))
    site = site.replace("/var/cache/nginx/donations", str(tmp / "cache"))
    site = site.replace("server 127.0.0.1:8000;", f"server {upstream};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (tmp / "site.conf").write_text(site)
    main = tmp / "nginx.conf"
    # As root, nginx's workers would switch to nobody, who may not enter pytest's tmp folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"{user}pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp}/body;\n"
        f"  proxy_temp_path {tmp}/proxy;\n  include /etc/nginx/mime.types;\n"
        f"  include {tmp}/site.conf;\n}}\n"
    )
    return main


@contextlib.contextmanager
def running_nginx(conf: Path) -> Iterator[None]:
    """nginx in the foreground on the conf, stopped (by its own pid) at the end."""
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(conf.parent), "-g", "daemon off;"],
        stderr=subprocess.DEVNULL,  # it logs to error.log in the tmp folder
    )
    try:
        port = int(
            re.search(r"listen 127\.0\.0\.1:(\d+);", (conf.parent / "site.conf").read_text())[1]
        )
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.05)
        yield
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=10)


@needs_nginx
def test_the_nginx_site_passes_nginx_t(tmp_path):
    result = subprocess.run(
        [NGINX, "-t", "-c", str(nginx_conf(tmp_path)), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def _get(url: str, **headers: str):
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@needs_nginx
def test_nginx_serves_hashed_static_files_and_micro_caches_anonymous_readers(live_server, tmp_path):
    port = _free_port()
    conf = nginx_conf(tmp_path, upstream=live_server.url.removeprefix("http://"), port=port)
    front = f"http://127.0.0.1:{port}"
    with running_nginx(conf):
        _, _, page = _get(front + "/")
        css = re.search(rb'href="(/static/css/site\.[0-9a-f]{10}\.css)"', page)[1].decode()
        status, headers, body = _get(front + css)
        assert status == 200 and body == (ROOT / "static/css/site.css").read_bytes()
        assert "immutable" in headers["Cache-Control"] and "31536000" in headers["Cache-Control"]

        first = _get(front + "/api/progress")[1]["X-Cache"]
        second = _get(front + "/api/progress")[1]["X-Cache"]
        assert (first, second) == ("MISS", "HIT")
        personal = _get(front + "/api/progress", Cookie="session=abc")[1]["X-Cache"]
        assert personal == "BYPASS"
        # A reader who opened a form carries anon_session: anonymous for nginx as for the app.
        anonymous = _get(front + "/api/progress", Cookie="anon_session=abc")[1]["X-Cache"]
        assert anonymous == "HIT"


def test_nginx_and_the_app_draw_the_anonymity_line_with_the_same_regex():
    from donations.core.sessions import ANONYMOUS_RULE, is_anonymous

    rules = re.findall(r'"~\*(.+)" 1;', SITE.read_text())
    assert rules == [ANONYMOUS_RULE]
    personal = ["session=x", "a=1; session=x", "remember_token=y", "a=1;session=x"]
    assert not any(is_anonymous(cookie) for cookie in personal)
    anonymous = [None, "", "anon_session=x", "xsession=y", "other=1; my_session=2"]
    assert all(is_anonymous(cookie) for cookie in anonymous)


def test_the_gunicorn_config_loads_and_sizes_workers_from_the_cpus():
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", "deploy/gunicorn.conf.py",
         "hello:app", "--chdir", str(ROOT / "bench")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    namespace: dict = {}
    exec((ROOT / "deploy/gunicorn.conf.py").read_text(), namespace)  # noqa: S102 (our own file)
    assert namespace["workers"] == (os.cpu_count() or 1) * 2 or "WEB_CONCURRENCY" in os.environ
    assert namespace["timeout"] > 0 and namespace["graceful_timeout"] > 0
    assert "%(D)s" in namespace["access_log_format"]


def _unit(name: str) -> dict[str, dict[str, str]]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((ROOT / "deploy" / "systemd" / name).read_text())
    return {section: dict(parser[section]) for section in parser.sections()}


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("donations-web.service", "gunicorn -c deploy/gunicorn.conf.py wsgi:app"),
        ("donations-worker@.service", "flask --app wsgi webhooks work"),
    ],
)
def test_the_systemd_units_restart_the_web_and_the_workers_at_once(name, command):
    unit = _unit(name)
    service = unit["Service"]
    assert service["ExecStart"].endswith(command)
    assert (service["Restart"], service["RestartSec"]) == ("always", "1")
    # SIGTERM: the worker finishes its batch, gunicorn its requests.
    assert service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    if name.startswith("donations-worker"):
        assert unit["Unit"]["StartLimitIntervalSec"] == "0"  # never gives up restarting


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_the_systemd_units_parse(tmp_path):
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        text = unit.read_text().replace("/srv/donations/.venv/bin/", "/usr/bin/")
        (tmp_path / unit.name.replace("@", "@1")).write_text(text.replace("%i", "1"))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, tmp_path.glob("*.service"))],
        capture_output=True, text=True,
    )  # fmt: skip
    # Only complaints about this machine (no such user, env file or binary) are allowed.
    allowed = re.compile(r"not found|No such file|Failed to|user|group", re.I)
    lines = (result.stderr + result.stdout).splitlines()
    problems = [line for line in lines if line.strip() and not allowed.search(line)]
    assert not problems, result.stderr


def _client_in_the_access_log(make_app, tmp_path, **env: str) -> str:
    """The client address gunicorn logs for a request naming a forged and a real address."""
    from tests.hardening.served import gunicorn_serving

    app = make_app()
    with gunicorn_serving(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, **env) as served:
        # The client wrote 6.6.6.6; the proxy in front appended the address it saw.
        answer = served.raw(
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"X-Forwarded-For: 6.6.6.6, 203.0.113.9\r\n\r\n"
        )
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
        for _ in range(50):
            if served.access_lines():
                break
            time.sleep(0.1)
    (line,) = served.access_lines()
    return line.split(" ", 1)[0]


def test_the_access_log_names_the_client_the_trusted_proxy_saw(make_app, tmp_path):
    client = _client_in_the_access_log(make_app, tmp_path, TRUSTED_PROXIES="1")
    assert client == "203.0.113.9"


def test_the_access_log_ignores_forwarded_addresses_from_an_untrusted_peer(make_app, tmp_path):
    # gunicorn here is reached directly, not from the proxy's address: nothing it sent counts.
    client = _client_in_the_access_log(
        make_app, tmp_path, TRUSTED_PROXIES="1", FORWARDED_ALLOW_IPS="10.9.9.9"
    )
    assert client == "127.0.0.1"


def test_gunicorns_access_log_never_holds_a_claim_or_reset_token(make_app, tmp_path):
    from tests.hardening.served import gunicorn_serving

    app = make_app()
    token = "eyJzZWNyZXQiOiJ0b2tlbiJ9.aGVsbG8.c2lnbmVk"
    with gunicorn_serving(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) as served:
        for path in (f"/account/claim/{token}", f"/password/reset/{token}?x=1"):
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            served.raw(request.encode())
        for _ in range(50):
            if len(served.access_lines()) == 2:
                break
            time.sleep(0.1)
    lines = served.access_lines()
    assert len(lines) == 2 and token not in "\n".join(lines), lines
    assert "/account/claim/…" in lines[0] and "/password/reset/…" in lines[1]
