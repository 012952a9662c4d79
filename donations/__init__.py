"""donations: the membership and donation service of an independent newsroom."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from donations.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ConfigError", "create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages and commands."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_settings(os.environ, config, app.instance_path))
    _configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def _configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        level = logging.DEBUG if app.debug else logging.INFO
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions from extensions.py to this app."""
    from donations.accounts import loader  # noqa: F401  (registers the user loader)
    from donations.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Attach one blueprint per feature, and the error pages."""
    from donations.articles.routes import bp as articles_bp
    from donations.core.errors import register_error_handlers
    from donations.core.routes import bp as core_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(articles_bp)
    register_error_handlers(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals that every template may use."""
    from donations.core.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    """Attach the flask CLI commands."""
    from donations.cli import register

    register(app)
