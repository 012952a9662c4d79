"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Each value can be changed from the environment without editing this file (WEB_CONCURRENCY,
GUNICORN_BIND, GUNICORN_TIMEOUT, ...), so one file serves every app server.
"""

import ipaddress
import multiprocessing
import os

from gunicorn.glogging import Logger

from donations.core.logs import redact_path

# Sync workers, one or two per core: pages are CPU-bound (Python), and a worker never waits
# on a slow client because nginx buffers requests and responses in front of it.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Connections come from nginx on this host or the load balancer: their X-Forwarded-* count,
# and nobody else's (the access log below follows the same rule).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# A request that takes longer than this is stuck (the slowest page, the staff dashboard at a
# million supporters, takes well under a second): its worker is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# SIGTERM or SIGHUP (a deploy) lets running requests finish within this many seconds.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5  # nginx keeps upstream connections open (see deploy/nginx/donations.conf)
# Replace each worker after this many requests (staggered), so no slow leak grows forever.
max_requests = 10_000
max_requests_jitter = 1_000

# One line per request: client, request, status, size, time in microseconds and the request
# id the app answered with, so a slow request can be traced. The client (%(h)s) is never read
# from a header the client wrote: it is the address the app itself took (from X-Forwarded-For
# through TRUSTED_PROXIES, werkzeug's ProxyFix), and only on a connection from an address in
# forwarded_allow_ips; on any other connection, the connection's own address.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(f)s" "%(a)s" rid=%({x-request-id}o)s'
proc_name = "donations"


def _from_a_trusted_proxy(peer: str, allowed: list[str]) -> bool:
    """Whether a connection from `peer` is from an address in forwarded_allow_ips."""
    if not peer or "*" in allowed:  # a unix socket has no address: nginx on this host
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _redact_line(text: str) -> str:
    method, sep, rest = text.partition(" ")
    if not sep:
        return redact_path(text)
    return f"{method} {redact_path(rest)}"


class ProxiedClientLogger(Logger):
    """gunicorn's logger, whose %(h)s is the client as the app saw it, from a trusted proxy."""

    def atoms(self, resp, req, environ, request_time):
        """The access log's fields, with %(h)s checked against forwarded_allow_ips."""
        atoms = super().atoms(resp, req, environ, request_time)
        # ProxyFix keeps the connection's own address here when it replaced REMOTE_ADDR.
        peer = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
        if peer is not None and not _from_a_trusted_proxy(peer, self.cfg.forwarded_allow_ips):
            atoms["h"] = peer
        # Claim and reset links work as passwords until used: never written to the log.
        for atom in ("r", "U"):
            if isinstance(atoms.get(atom), str):
                atoms[atom] = _redact_line(atoms[atom])
        return atoms


logger_class = ProxiedClientLogger
