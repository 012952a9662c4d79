"""Every setting, read from the environment and validated once at start-up."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from donations.core.secret_key import HOW_TO_MAKE_ONE, secret_key_problem
from donations.core.truthy import is_true
from donations.currencies import CURRENCIES, check_settlement
from donations.facts.payload import STRIPE_API_VERSION
from donations.fees import fee_table

log = logging.getLogger(__name__)

ENVIRONMENTS = ("production", "development", "testing")

# name -> default; None means "no default" and is checked by validate().
DEFAULTS: dict[str, Any] = {
    "APP_ENV": "production",
    "SECRET_KEY": None,
    "DATABASE_URL": None,
    "STRIPE_SECRET_KEY": "",
    "STRIPE_PUBLISHABLE_KEY": "",
    "STRIPE_WEBHOOK_SECRET": "",
    "STRIPE_ALLOW_LIVE": "0",
    "STRIPE_EMULATOR": "auto",
    "STRIPE_EMULATOR_DB": "",
    "STRIPE_EMULATOR_DELIVERY": "ordered",
    "STRIPE_EMULATOR_SEED": "",
    "MEMBERSHIP_GOAL": "20000",
    "DONATION_CURRENCIES": "usd,eur,gbp",
    "STRIPE_SETTLEMENT_CURRENCY": "usd",
    "STRIPE_FEE_TABLE": "",
    "SITE_NAME": "The Meridian Ledger",
    "SITE_URL": "http://127.0.0.1:5000",
    "REDIS_URL": "",
    "MAIL_SERVER": "",
    "MAIL_PORT": "587",
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_USE_TLS": "1",
    "MAIL_FROM": "",
    "CONTACT_EMAIL": "",
    "ARTICLES_PER_PAGE": "10",
    "MEMBER_GRACE_DAYS": "21",
    "TRUSTED_PROXIES": "0",
    "METRICS_TOKEN": "",
    "PROMETHEUS_MULTIPROC_DIR": "",
    "LOG_FORMAT": "json",
    "CACHE_SECONDS": "2",
    "FRONT_CACHE": "1",
    "WEBHOOK_QUEUE": "0",
    "STRIPE_ACCOUNT_SHARED": "0",
    "WEBHOOK_STUCK_SECONDS": "10",
    "WEBHOOK_WORKER_LIVENESS_SECONDS": "15",
}

# The largest request body the site reads at all; forms are far smaller (article bodies too).
MAX_CONTENT_LENGTH = 1024 * 1024


def _contact_email(mail_from: str, site_url: str) -> str:
    # Where readers write to, when unset: MAIL_FROM's address, unless nobody reads that one
    # ("no-reply@…"): a reader who answers "write to us" must not write into the void.
    address = parseaddr(mail_from)[1]
    if re.fullmatch(r"(do-?)?not?-?reply", address.partition("@")[0], re.IGNORECASE):
        return f"support@{urlsplit(site_url).hostname}"
    return address


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the setting."""


def _positive_int(name: str, value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return number


def _non_negative_int(name: str, value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of 0 or more, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must be a whole number of 0 or more, got {value!r}")
    return number


def _existing_dir(name: str, value: Any) -> str:
    path = str(value or "").strip()
    if path and not Path(path).is_dir():
        raise ConfigError(f"{name} must be an existing directory, got {path!r}")
    return path


def _database_url(raw: str | None, instance_path: str) -> str:
    if not raw:
        return "sqlite:///" + os.path.join(instance_path, "donations.sqlite3")
    try:
        url = make_url(raw)
        url.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(f"DATABASE_URL is not a usable SQLAlchemy URL ({exc})") from None
    # Heroku-style "postgres://" would silently pick psycopg2, which we don't ship.
    if url.drivername in {"postgres", "postgresql", "postgresql+psycopg2"}:
        raise ConfigError(
            "DATABASE_URL must use the psycopg 3 driver: postgresql+psycopg://user@host/db"
        )
    return raw


def _secret_key(raw: str | None, env: str, instance_path: str) -> str:
    if env == "production":
        if not raw:
            raise ConfigError(
                f"SECRET_KEY is required in production (APP_ENV=production); {HOW_TO_MAKE_ONE}"
            )
        # A guessable key forges sessions and emailed links: refuse it before anything runs.
        if problem := secret_key_problem(raw):
            raise ConfigError(f"SECRET_KEY {problem}; {HOW_TO_MAKE_ONE}")
        return raw
    if raw:
        return raw
    # Development: keep one random key in the instance folder so restarts keep sessions.
    path = Path(instance_path) / "secret_key"
    if env == "development" and path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    if env == "development":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
        log.warning("SECRET_KEY is not set; using a random development key from %s", path)
    return key


def _stripe(settings: dict[str, Any]) -> None:
    key = settings["STRIPE_SECRET_KEY"].strip()
    settings["STRIPE_SECRET_KEY"] = key
    settings["STRIPE_ALLOW_LIVE"] = is_true(settings["STRIPE_ALLOW_LIVE"])
    if key.startswith(("sk_live_", "rk_live_")) and not settings["STRIPE_ALLOW_LIVE"]:
        raise ConfigError("STRIPE_SECRET_KEY is a live key; set STRIPE_ALLOW_LIVE=1 to allow it")
    if key and not key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        raise ConfigError("STRIPE_SECRET_KEY must start with sk_test_ (or sk_live_)")
    settings["STRIPE_EMULATOR"] = _emulator_mode(settings["STRIPE_EMULATOR"], key, settings)
    settings["STRIPE_TEST_MODE"] = not key.startswith(("sk_live_", "rk_live_"))
    # Several, comma-separated, while one is rotated out; none yet with a key is allowed:
    # `stripe setup` needs only the key (the endpoint then refuses deliveries, and says why).
    given = [s.strip() for s in str(settings["STRIPE_WEBHOOK_SECRET"] or "").split(",")]
    given = list(dict.fromkeys(s for s in given if s))
    if any(not s.startswith("whsec_") for s in given):
        raise ConfigError("STRIPE_WEBHOOK_SECRET must start with whsec_ (each, if several)")
    secret = ",".join(given)
    if key and not secret:
        log.warning(
            "STRIPE_WEBHOOK_SECRET is not set: POST /stripe/webhook refuses every delivery "
            "(503, Stripe retries) until it is; `flask --app wsgi stripe setup --webhook-url "
            "%s/stripe/webhook` shows it when it creates the endpoint (on this machine: "
            "`flask --app wsgi stripe setup --local`)",
            settings["SITE_URL"],
        )
    elif not secret:
        # Derived, not random: the web workers and CLI processes must all agree on it.
        digest = hmac.new(
            settings["SECRET_KEY"].encode(), b"stripe-emulator-webhook", hashlib.sha256
        ).hexdigest()
        secret = "whsec_" + digest[:32]
    settings["STRIPE_WEBHOOK_SECRET"] = secret
    settings["STRIPE_WEBHOOK_SECRETS"] = tuple(s for s in secret.split(",") if s)


def _emulator_mode(raw: Any, key: str, settings: dict[str, Any]) -> bool:
    """Whether the offline emulator stands in for Stripe (design §4: auto, 1 or 0)."""
    mode = str(raw if raw is not None else "auto").strip().lower() or "auto"
    if mode not in {"auto", "0", "1"}:
        raise ConfigError(f"STRIPE_EMULATOR must be auto, 1 or 0, got {raw!r}")
    if key and mode == "1":
        raise ConfigError("STRIPE_EMULATOR=1 cannot be used with a STRIPE_SECRET_KEY; unset one")
    if key:
        return False
    if mode == "1":
        if settings["APP_ENV"] == "production":
            # A public demo may want this; it must never happen by accident, so say it loudly.
            log.warning("STRIPE_EMULATOR=1: the offline Stripe emulator takes payments here")
        return True
    if mode == "0":
        raise ConfigError("STRIPE_SECRET_KEY is required when STRIPE_EMULATOR=0")
    if settings["APP_ENV"] == "production":
        # An empty key in production is a missing secret, not a wish for fake payments:
        # with the emulator live, anyone could "pay" with a test card and be counted.
        raise ConfigError(
            "STRIPE_SECRET_KEY is required in production; set STRIPE_EMULATOR=1 "
            "only to run the offline emulator on purpose (a public demo)"
        )
    return True


def _emulator_delivery(settings: dict[str, Any]) -> None:
    """How the emulator delivers webhooks: `ordered`, or `chaos` (reproducible by seed)."""
    mode = str(settings["STRIPE_EMULATOR_DELIVERY"] or "ordered").strip().lower()
    if mode not in {"ordered", "chaos"}:
        raise ConfigError(f"STRIPE_EMULATOR_DELIVERY must be ordered or chaos, got {mode!r}")
    settings["STRIPE_EMULATOR_DELIVERY"] = mode
    raw_seed = settings["STRIPE_EMULATOR_SEED"]
    seed = "" if raw_seed is None else str(raw_seed)
    try:
        settings["STRIPE_EMULATOR_SEED"] = int(seed) if seed.strip() else None
    except ValueError:
        raise ConfigError(f"STRIPE_EMULATOR_SEED must be an integer, got {seed!r}") from None


def _currencies(raw: str) -> list[str]:
    codes = [c.strip().lower() for c in str(raw).split(",") if c.strip()]
    if not codes:
        raise ConfigError("DONATION_CURRENCIES must list at least one currency, e.g. usd,eur")
    unknown = [c for c in codes if c not in CURRENCIES]
    if unknown:
        raise ConfigError(
            f"DONATION_CURRENCIES has unsupported currencies: {', '.join(unknown)} "
            f"(supported: {', '.join(sorted(CURRENCIES))})"
        )
    return list(dict.fromkeys(codes))


def _money(settings: dict[str, Any]) -> None:
    """The settlement currency (minimums follow it) and the card fee of each offered one."""
    try:
        settings["STRIPE_SETTLEMENT_CURRENCY"] = check_settlement(
            str(settings["STRIPE_SETTLEMENT_CURRENCY"] or "usd")
        )
        settings["STRIPE_FEES"] = fee_table(str(settings["STRIPE_FEE_TABLE"] or ""))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _account_shared(raw: Any) -> bool:
    """STRIPE_ACCOUNT_SHARED: 1 when the account sells other things too; refused if unclear."""
    value = str(raw if raw is not None else "0").strip().lower()
    if value not in {"", "0", "false", "no", "off"} and not is_true(value):
        # Which money counts hangs on it: a typo must stop start-up, not mean "dedicated".
        raise ConfigError(f"STRIPE_ACCOUNT_SHARED must be 0 or 1, got {raw!r}")
    return is_true(value)


def _site_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"SITE_URL must be an http(s) URL, got {raw!r}")
    return raw.strip().rstrip("/")


def _ratelimit_storage(redis_url: str) -> str:
    """Redis (with Flask-Limiter's in-memory fallback, see ratelimit.py), else process memory."""
    if not redis_url:
        return "memory://"
    if not redis_url.startswith(("redis://", "rediss://", "redis+unix://")):
        raise ConfigError(f"REDIS_URL must be a redis:// or rediss:// URL, got {redis_url!r}")
    return redis_url


def load_settings(
    environ: Mapping[str, str], overrides: Mapping[str, Any] | None, instance_path: str
) -> dict[str, Any]:
    """Merge defaults, the environment and explicit overrides, then validate."""
    raw: dict[str, Any] = {name: environ.get(name, default) for name, default in DEFAULTS.items()}
    raw.update(overrides or {})
    if raw.get("TESTING") and "APP_ENV" not in (overrides or {}):
        raw["APP_ENV"] = "testing"
    return validate(raw, instance_path)


def validate(raw: dict[str, Any], instance_path: str) -> dict[str, Any]:
    """Check and normalise settings; raise ConfigError naming the first bad one."""
    settings = dict(raw)
    env = str(settings["APP_ENV"]).strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    settings["APP_ENV"] = env
    settings["SECRET_KEY"] = _secret_key(settings["SECRET_KEY"], env, instance_path)
    settings["SQLALCHEMY_DATABASE_URI"] = _database_url(settings["DATABASE_URL"], instance_path)
    settings["MEMBERSHIP_GOAL"] = _positive_int("MEMBERSHIP_GOAL", settings["MEMBERSHIP_GOAL"])
    settings["ARTICLES_PER_PAGE"] = _positive_int(
        "ARTICLES_PER_PAGE", settings["ARTICLES_PER_PAGE"]
    )
    settings["MAIL_PORT"] = _positive_int("MAIL_PORT", settings["MAIL_PORT"])
    settings["MEMBER_GRACE_DAYS"] = _non_negative_int(
        "MEMBER_GRACE_DAYS", settings["MEMBER_GRACE_DAYS"]
    )
    settings["TRUSTED_PROXIES"] = _non_negative_int("TRUSTED_PROXIES", settings["TRUSTED_PROXIES"])
    settings["METRICS_TOKEN"] = str(settings["METRICS_TOKEN"] or "").strip()
    settings["PROMETHEUS_MULTIPROC_DIR"] = _existing_dir(
        "PROMETHEUS_MULTIPROC_DIR", settings["PROMETHEUS_MULTIPROC_DIR"]
    )
    settings["LOG_FORMAT"] = str(settings["LOG_FORMAT"] or "json").strip().lower()
    if settings["LOG_FORMAT"] not in {"json", "text"}:
        raise ConfigError(f"LOG_FORMAT must be json or text, got {settings['LOG_FORMAT']!r}")
    settings["CACHE_SECONDS"] = _positive_int("CACHE_SECONDS", settings["CACHE_SECONDS"])
    # One Redis may serve several installations: their cached numbers must never mix.
    database = hashlib.sha256(settings["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest()[:12]
    settings.setdefault("CACHE_KEY_PREFIX", f"donations:{database}:")
    settings["WEBHOOK_QUEUE"] = is_true(settings["WEBHOOK_QUEUE"])
    settings["STRIPE_ACCOUNT_SHARED"] = _account_shared(settings["STRIPE_ACCOUNT_SHARED"])
    # /healthz: degraded once an event waits this long; down when events wait and no queue
    # worker beat within the liveness window (a worker beats about every second).
    for name in ("WEBHOOK_STUCK_SECONDS", "WEBHOOK_WORKER_LIVENESS_SECONDS"):
        settings[name] = _positive_int(name, settings[name])
    if settings["WEBHOOK_WORKER_LIVENESS_SECONDS"] < 3:
        raise ConfigError(
            "WEBHOOK_WORKER_LIVENESS_SECONDS must be at least 3 (workers beat every second), "
            f"got {settings['WEBHOOK_WORKER_LIVENESS_SECONDS']}"
        )
    settings["FRONT_CACHE"] = is_true(settings["FRONT_CACHE"])
    settings["MAIL_USE_TLS"] = is_true(settings["MAIL_USE_TLS"])
    settings["DONATION_CURRENCIES"] = _currencies(settings["DONATION_CURRENCIES"])
    _money(settings)
    settings["SITE_URL"] = _site_url(settings["SITE_URL"])
    _stripe(settings)
    _emulator_delivery(settings)
    settings["STRIPE_API_VERSION"] = STRIPE_API_VERSION
    if not settings["MAIL_FROM"]:
        settings["MAIL_FROM"] = (
            f"{settings['SITE_NAME']} <no-reply@{urlsplit(settings['SITE_URL']).hostname}>"
        )
    if not settings["CONTACT_EMAIL"]:
        settings["CONTACT_EMAIL"] = _contact_email(settings["MAIL_FROM"], settings["SITE_URL"])
    secure = settings["SITE_URL"].startswith("https://")
    settings.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        # Flask's and Flask-Login's own defaults, named here: who is anonymous is decided by
        # these names, in the app (core/sessions.py) and in deploy/nginx alike.
        SESSION_COOKIE_NAME="session",
        REMEMBER_COOKIE_NAME="remember_token",
        # 30 days, as accounts.sessions promises (Flask-Login's own default is 365), for any
        # remember-me cookie set without an explicit duration.
        REMEMBER_COOKIE_DURATION=timedelta(days=30),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        PREFERRED_URL_SCHEME="https" if secure else "http",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        RATELIMIT_STORAGE_URI=_ratelimit_storage(settings["REDIS_URL"]),
        RATELIMIT_HEADERS_ENABLED=True,
        # While Redis is unreachable, every route's own limits are counted in this process.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        # A dead Redis must not cost every request a long connection timeout.
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
    )
    return settings
