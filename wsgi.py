"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`."""

import sys

from dotenv import load_dotenv

load_dotenv()

from donations import ConfigError, create_app  # noqa: E402  (the .env must load first)

try:
    app = create_app()
except ConfigError as exc:
    # One clear line, no traceback: this is an operator's mistake, not a bug.
    print(f"donations: configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
