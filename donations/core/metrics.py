"""Prometheus metrics (design §4, §5): requests, latency, webhook outcomes, rate-limit hits,
and, read at scrape time, members and the webhook backlog. GET /metrics needs METRICS_TOKEN.

Each app has its own registry. Counters live in the process that counted them; with several
worker processes set PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) so
that a scrape adds up every worker.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from donations.core.providers import (
    MailBacklog,
    live_workers,
    mail_backlog,
    members,
    webhook_backlog,
)
from donations.models import utcnow

bp = Blueprint("metrics", __name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# HTTP methods kept as themselves in the request counter's labels; anything else is "other".
KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


class StateCollector(Collector):
    """Gauges read from the database when scraped: members, the webhook backlog, workers."""

    def collect(self) -> Iterator[Metric]:
        """Yield the current members, backlog and live workers (small indexed queries)."""
        now = utcnow()
        backlog = webhook_backlog(now)
        yield GaugeMetricFamily(
            "donations_members", "People counted as members now", value=members()
        )
        yield GaugeMetricFamily(
            "donations_webhook_backlog_events",
            "Webhook events stored but not processed yet",
            value=backlog.pending,
        )
        yield GaugeMetricFamily(
            "donations_webhook_backlog_oldest_seconds",
            "Age of the oldest unprocessed webhook event (0 when none waits)",
            value=backlog.oldest_pending_seconds or 0.0,
        )
        yield GaugeMetricFamily(
            "donations_webhook_oldest_waiting_seconds",
            "Age of the oldest webhook event waiting for a worker (0 when none waits)",
            value=backlog.oldest_pending_seconds or 0.0,
        )
        yield GaugeMetricFamily(
            "donations_webhook_workers_live",
            "Queue workers (flask webhooks work) that beat within WEBHOOK_WORKER_LIVENESS_SECONDS",
            value=live_workers(now, current_app.config["WEBHOOK_WORKER_LIVENESS_SECONDS"]),
        )
        yield GaugeMetricFamily(
            "donations_webhook_failed_24h",
            "Webhook events that failed in the last 24 hours (replayable)",
            value=backlog.failed_recently,
        )
        yield from _mail_gauges(mail_backlog(now))


def _mail_gauges(backlog: MailBacklog) -> Iterator[Metric]:
    for name, help_, value in (
        ("unsent", "Mails in the outbox not sent yet", backlog.pending),
        ("oldest_unsent_seconds", "Age of the oldest unsent mail", backlog.oldest_pending_seconds),
        ("failing", "Unsent mails whose last try failed (retried)", backlog.failing),
        ("given_up", "Mails refused for good by the mail server", backlog.given_up),
    ):
        yield GaugeMetricFamily(f"donations_mail_{name}", help_, value=value or 0)


class Metrics:
    """The app's metric objects, in its own registry."""

    def __init__(self, multiprocess_dir: str = "") -> None:
        self.registry = CollectorRegistry()
        self.multiprocess_dir = multiprocess_dir
        self.requests = Counter(
            "donations_http_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "donations_http_request_duration_seconds",
            "Time to answer a request, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.webhook_events = Counter(
            "donations_webhook_events",
            "Webhook deliveries by event type and outcome",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "donations_rate_limit_hits",
            "Requests refused by a rate limit (429), by route",
            ["route"],
            registry=self.registry,
        )
        self._bound: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float | None) -> None:
        """Count one answer and its time: Flask's, or the page cache's."""
        # The method is the client's text: any word would make a new series for ever.
        method = method if method in KNOWN_METHODS else "other"
        key = (route, method, status)
        bound = self._bound.get(key)
        if bound is None:
            # A label lookup costs a lock and a few dicts: done once per series (routes,
            # methods and statuses are few), the children kept.
            bound = self._bound[key] = (
                self.requests.labels(route=route, method=method, status=str(status)),
                self.latency.labels(route=route),
            )
        bound[0].inc()
        if seconds is not None:
            bound[1].observe(seconds)
        if status == 429:
            self.rate_limited.labels(route=route).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric, with the state read now."""
        registry = self.registry
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        state = CollectorRegistry()
        state.register(StateCollector())
        return generate_latest(registry) + generate_latest(state)


def metrics() -> Metrics:
    """This app's metrics."""
    return current_app.extensions["metrics"]


def count_webhook(event_type: str, outcome: str) -> None:
    """Count one webhook delivery (processed, ignored, failed, duplicate, refused)."""
    metrics().webhook_events.labels(type=event_type[:100], outcome=outcome).inc()


def _route(rule: Any) -> str:
    # The rule, not the path: /articles/<slug> is one series, not one per article.
    return rule.rule if rule is not None else "unmatched"


def start_timer() -> None:
    """Before-request hook: when this request started, for the latency histogram."""
    g.metrics_started = time.perf_counter()


def observe_request(response: Response) -> Response:
    """After-request hook: count the answer and its time."""
    started = g.get("metrics_started")
    seconds = time.perf_counter() - started if started is not None else None
    this = request._get_current_object()  # type: ignore[attr-defined]
    metrics().observe(_route(this.url_rule), this.method, response.status_code, seconds)
    return response


@bp.get("/metrics")
def scrape():
    """Prometheus text format for a bearer of METRICS_TOKEN; 404 for anyone else."""
    token = current_app.config["METRICS_TOKEN"]
    # Exactly "Bearer <token>" (RFC 6750): the bare token, or the token under another
    # scheme, is no bearer credential, and a proxy's logs may show such headers. The scheme's
    # name is case-insensitive (RFC 9110 §11.1); the token is compared exactly.
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        abort(404)
    if not hmac.compare_digest(given.encode(), token.encode()):
        abort(404)
    response = Response(metrics().exposition(), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def register_metrics(app: Flask) -> None:
    """Create the app's metrics and serve GET /metrics (its hooks: the factory's pipeline)."""
    app.extensions["metrics"] = Metrics(app.config["PROMETHEUS_MULTIPROC_DIR"])
    app.register_blueprint(bp)
