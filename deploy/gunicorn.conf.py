"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Each value can be changed from the environment without editing this file (WEB_CONCURRENCY,
GUNICORN_BIND, GUNICORN_TIMEOUT, ...), so one file serves every app server.
"""

import multiprocessing
import os

# Sync workers, one or two per core: pages are CPU-bound (Python), and a worker never waits
# on a slow client because nginx buffers requests and responses in front of it.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Connections come from nginx on this host or the load balancer: their X-Forwarded-* count.
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

# One line per request: client (first X-Forwarded-For hop when behind nginx), request, status,
# size, time in microseconds and the request id nginx sets, so a slow request can be traced.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = (
    '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(D)sus '
    '"%(f)s" "%(a)s" rid=%({x-request-id}i)s'
)
proc_name = "donations"
