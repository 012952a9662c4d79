"""Routing of the emulated REST API: matching a route table, and Stripe's 404s."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .errors import StripeError, no_such
from .listing import render
from .store import Tx

if TYPE_CHECKING:
    from .core import Emulator

Handler = Callable[..., dict[str, Any]]
# One row of a route table: method, path pattern (`{id}` = one path segment), handler.
RouteRow = tuple[str, str, Handler]


class Router:
    """Matches requests against a route table and answers unknown paths as Stripe does."""

    def __init__(self, table: Iterable[RouteRow]) -> None:
        self.routes = [
            (method, re.compile("^" + pattern.replace("{id}", "([A-Za-z0-9_]+)") + "$"), func)
            for method, pattern, func in table
        ]

    def dispatch(
        self, emu: Emulator, tx: Tx, method: str, path: str, params: dict[str, Any]
    ) -> Any:
        """Run the handler for a request and return the rendered (public, expanded) object."""
        known_path = False
        for verb, regex, func in self.routes:
            match = regex.match(path)
            if match is None:
                continue
            known_path = True
            if verb == method:
                return render(tx, func(emu, tx, params, *match.groups()), params)
        if known_path:
            raise StripeError(
                f"Unrecognized request URL ({method}: {path}). This method is not allowed.",
                status=404,
            )
        raise StripeError(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
            status=404,
        )


def fetch(tx: Tx, obj_type: str, obj_id: str, kind: str | None = None) -> dict[str, Any]:
    """Return a stored object named in the URL, or raise Stripe's 404 `resource_missing`."""
    obj = tx.get(obj_id, obj_type)
    if obj is None:
        raise no_such(kind or obj_type, obj_id)
    return obj
