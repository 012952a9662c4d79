"""The request pipeline: every app-wide hook in the one order create_app's register_pipeline
lists, and nothing registered beside it."""

from __future__ import annotations

from flask import Flask

from donations import register_pipeline

# In the order they run. The extensions' hooks are named by module and qualified name.
BEFORE = [
    "donations.core.logs.start_request",
    "donations.core.metrics.start_timer",
    "donations.core.limits.cap_streamed_body",
    "donations.core.inputs.guard_request",
    "flask_wtf.csrf.CSRFProtect.init_app.<locals>.csrf_protect",
    "flask_limiter._extension.Limiter._check_request_limit",
]
AFTER = [
    "donations.core.http_cache.never_public_with_a_session",
    "donations.security.security_headers_hook.<locals>.security_headers",
    "donations.core.logs.log_request",
    "donations.core.metrics.observe_request",
    "flask_limiter._extension.Limiter.__inject_headers",
    "flask_login.login_manager.LoginManager._update_remember_cookie",
]


def _name(hook) -> str:
    function = getattr(hook, "func", hook)  # Flask-Limiter's header hook is a partial
    return f"{function.__module__}.{function.__qualname__}"


def _running_order(app: Flask) -> tuple[list[str], list[str]]:
    before = [_name(hook) for hook in app.before_request_funcs[None]]
    after = [_name(hook) for hook in reversed(app.after_request_funcs[None])]
    return before, after


def test_the_app_wide_hooks_run_in_the_pipelines_order(app):
    assert _running_order(app) == (BEFORE, AFTER)


def test_a_hook_registered_beside_the_pipeline_breaks_the_order(app):
    def stray() -> None:
        return None

    app.before_request_funcs[None].insert(0, stray)
    before, _ = _running_order(app)
    assert before != BEFORE


def test_a_hook_an_extension_registers_lands_where_the_pipeline_puts_extensions():
    # As Flask-WTF does: registered by init_app, before the factory's list is built.
    app = Flask(__name__)
    app.config.update(WTF_CSRF_ENABLED=True, SITE_URL="http://x", TRUSTED_PROXIES=0)

    def extensions_hook() -> None:
        return None

    app.before_request(extensions_hook)
    register_pipeline(app)
    names = [_name(hook) for hook in app.before_request_funcs[None]]
    assert names[:4] == BEFORE[:4]
    assert names[4:] == [f"{__name__}.{extensions_hook.__qualname__}"]


def test_the_hooks_run_in_that_order_on_a_request(app, client):
    ran: list[str] = []
    for hooks in (app.before_request_funcs, app.after_request_funcs):
        hooks[None] = [_recording(hook, ran) for hook in hooks[None]]
    client.get("/healthz")
    assert ran == BEFORE + AFTER


def _recording(hook, ran: list[str]):
    name = _name(hook)

    def record(*args):
        ran.append(name)
        return hook(*args)

    return record
