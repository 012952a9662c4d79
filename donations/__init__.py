"""donations: the membership and donation service of an independent newsroom."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from donations.config import ConfigError, load_settings

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent

__all__ = ["ConfigError", "create_app"]


def _shipped(name: str) -> Path:
    """templates/, static/ or migrations/: inside the installed package, else the checkout's."""
    inside = PACKAGE / name  # a wheel puts them here (pyproject.toml: force-include)
    return inside if inside.is_dir() else ROOT / name


class App(Flask):
    """Flask, with `ensure_sync`'s answer kept per function: Flask asks it for every hook,
    context processor and view of every request (~20 times), and a function's kind (async
    or not) never changes (Flask's documented place to change how functions are run)."""

    _SYNC_KEPT = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Any, Any] = {}

    def ensure_sync(self, func: Any) -> Any:
        """Flask's ensure_sync, once per function."""
        try:
            return self._sync[func]
        except KeyError:
            pass
        except TypeError:  # unhashable: no memo
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if len(self._sync) >= self._SYNC_KEPT:
            self._sync.clear()
        self._sync[func] = wrapped
        return wrapped


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages and commands."""
    app = App(
        __name__,
        template_folder=str(_shipped("templates")),
        static_folder=str(_shipped("static")),
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_settings(os.environ, config, app.instance_path))
    _configure_logging(app)
    register_extensions(app)
    register_providers(app)
    register_operations(app)
    register_payments(app)
    register_blueprints(app)
    register_caching(app)
    register_template_helpers(app)
    register_commands(app)
    register_pipeline(app)
    # WSGI layers around Flask, innermost first: the page cache sees the client's address
    # and scheme as ProxyFix fixed them.
    register_page_cache(app)
    register_proxies(app)
    return app


def register_pipeline(app: Flask) -> None:
    """Every app-wide request hook, in one list, in the order it runs (README: The request
    pipeline; tests/test_pipeline.py asserts it).

    No module of ours registers an app-wide hook: what is registered when this runs came from
    the extensions' init_app (Flask-WTF's CSRF check, Flask-Limiter's limits and headers,
    Flask-Login's remember cookie), in their order, and goes where this list puts it.
    """
    from donations.core.http_cache import never_public_with_a_session
    from donations.core.inputs import guard_request
    from donations.core.limits import cap_streamed_body
    from donations.core.logs import log_request, start_request
    from donations.core.metrics import observe_request, start_timer
    from donations.security import security_headers_hook

    by_extensions_before = app.before_request_funcs.pop(None, [])
    by_extensions_after = app.after_request_funcs.pop(None, [])  # Flask runs these last first
    before = [
        start_request,  # the request id and start time, for every line logged from here on
        start_timer,
        cap_streamed_body,  # a chunked body is cut at its limit before anything reads it
        guard_request,  # NUL bytes and oversize values: 400 before any rate-limit key reads them
        *by_extensions_before,  # the CSRF check, then the rate limits
    ]
    after = [
        never_public_with_a_session,  # first: what follows sees the final Cache-Control
        security_headers_hook(app),
        log_request,  # the X-Request-ID header and the access line
        observe_request,
        *reversed(by_extensions_after),  # rate-limit headers, then the remember-me cookie
    ]
    app.before_request_funcs[None] = before
    app.after_request_funcs[None] = after[::-1]  # Flask calls after-request hooks in reverse


def _configure_logging(app: Flask) -> None:
    from donations.core.logs import configure_logging

    configure_logging(app)
    # Alembic announces each of its plugins at INFO on every start; that is noise here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # The SDK logs every request at INFO; our own log lines say what matters.
    logging.getLogger("stripe").setLevel(logging.WARNING)


def register_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For and -Proto from exactly TRUSTED_PROXIES proxies (design §4)."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        # Only the last `hops` addresses are ours to believe; a client can write the rest.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def register_page_cache(app: Flask) -> None:
    """Answer anonymous public pages from a per-process copy, before Flask (FRONT_CACHE)."""
    from donations.core import http_cache

    http_cache.init_app(app)


def register_operations(app: Flask) -> None:
    """The metrics registry and GET /metrics; bounded `<int:…>` ids in routes."""
    from donations.core.inputs import register_int_converter
    from donations.core.metrics import register_metrics

    register_metrics(app)
    register_int_converter(app)


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions from extensions.py to this app."""
    from donations.accounts.loader import configure_login
    from donations.core import cache
    from donations.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    cache.init_app(app)
    migrate.init_app(app, db, directory=str(_shipped("migrations")))
    configure_login(login_manager)
    login_manager.init_app(app)
    csrf.init_app(app)
    # The limiter is one shared object: an app that disabled it must not disable the next.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)  # also gives this app fresh rate-limit storage


def register_providers(app: Flask) -> None:
    """What core's health check and /metrics read from the features, handed in, not imported."""
    from donations.membership import progress
    from donations.payments import backlog

    backlog.register(app)
    progress.register(app)


def register_payments(app: Flask) -> None:
    """Build the Stripe gateway; in emulator mode, start the emulator first and set it up."""
    from donations.payments import gateway
    from donations.payments.account import setup_account

    if not app.config["STRIPE_EMULATOR"]:
        gateway.init_app(app)
        return
    # Imported only here: production code never loads the emulator.
    from stripe_emulator import init_app as init_emulator

    emulator = init_emulator(app)
    gateway.init_app(app)
    if _in_a_command_other_than_run():
        # `flask create-staff` and the like: their SITE_URL may not be the running server's
        # (`make run PORT=5123` passes its own), and an endpoint made for it would collect
        # every event for a port nobody serves. `flask stripe setup` is the explicit way.
        return
    # As `flask stripe setup` does on a real account: the emulator sends events only to an
    # endpoint registered for them, and portal sessions need a configuration. Nothing
    # changed since the last start: one list call each for endpoints and configurations.
    # One emulator transaction, so that workers starting together don't each add one.
    site = app.config["SITE_URL"]
    with emulator.transaction():
        report = setup_account(
            app.extensions["payments_gateway"],
            webhook_url=site + "/stripe/webhook",
            api_version=app.config["STRIPE_API_VERSION"],
            return_url=site + "/account",
        )
    if report.changed:
        for line in report.lines:
            app.logger.info("stripe emulator set-up: %s", line)


def _in_a_command_other_than_run() -> bool:
    """True when a `flask` command other than `flask run` (which serves the site) made the app."""
    import click

    context = click.get_current_context(silent=True)
    return context is not None and context.info_name != "run"


def register_blueprints(app: Flask) -> None:
    """Attach one blueprint per feature, and the error pages."""
    from donations.accounts.routes import bp as accounts_bp
    from donations.api.routes import bp as api_bp
    from donations.articles.routes import bp as articles_bp
    from donations.core.errors import register_error_handlers
    from donations.core.routes import bp as core_bp
    from donations.payments.webhooks import bp as webhooks_bp
    from donations.security import register_csrf_error_page
    from donations.staff.routes import bp as staff_bp
    from donations.support.routes import bp as support_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(articles_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(api_bp)
    register_error_handlers(app)
    register_csrf_error_page(app)


def register_caching(app: Flask) -> None:
    """Content-hashed static file names (and the build id of ETags), and the two session
    cookies that keep anonymous readers anonymous (core/sessions.py)."""
    from donations.core import sessions, static

    static.init_app(app)
    sessions.init_app(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals that every template may use."""
    from donations.core.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    """Attach the flask CLI commands, and `flask shell`'s db and models."""
    from donations.cli import register

    register(app)
    app.shell_context_processor(shell_context)


def shell_context() -> dict[str, Any]:
    """What `flask shell` starts with: `db` and every model by its class name."""
    from donations.extensions import db
    from donations.models import Base

    models = {mapper.class_.__name__: mapper.class_ for mapper in Base.registry.mappers}
    return {"db": db, **models}
