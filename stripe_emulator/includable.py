"""Includable fields: lists Stripe sends only when a request's `expand` names them.

Sources: `invoice.payments` ("Invoice Payments can be accessed ... by expanding the payments
field on the Invoice resource", API reference, the Invoice Payment object; never in a webhook
payload, stripe-behaviour.md); `charge.refunds` (changelog 2022-11-15, "The Charges object no
longer auto-expands refunds by default"). A Checkout Session's `line_items` are includable too;
the emulator keeps those under a private key (see listing._expand).

The emulator stores these lists on the objects (the API fills them in on `expand`, older API
versions show some by default); every answer and every payload strips them on the way out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

INCLUDABLE: dict[str, tuple[str, ...]] = {
    "invoice": ("payments",),
    "charge": ("refunds",),
}


def expanded_paths(expand: Iterable[str]) -> set[str]:
    """Every path an `expand[]` list asks for, prefixes included (`a.b` also asks for `a`)."""
    paths: set[str] = set()
    for path in expand:
        parts = str(path).split(".")
        paths.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return paths


def strip(node: Any, keep: Collection[str] = (), prefix: str = "") -> None:
    """Remove includable fields in place, except those at the paths in `keep`."""
    if isinstance(node, list):
        for child in node:
            strip(child, keep, prefix)
        return
    if not isinstance(node, dict):
        return
    for field in INCLUDABLE.get(str(node.get("object")), ()):
        if field in node and prefix + field not in keep:
            del node[field]
    for key, value in node.items():
        strip(value, keep, f"{prefix}{key}.")


def strip_previous(obj_type: str, previous: dict[str, Any], keep: Collection[str] = ()) -> None:
    """Remove includable fields from an event's `previous_attributes` (it has no `object`)."""
    for field in INCLUDABLE.get(obj_type, ()):
        if field not in keep:
            previous.pop(field, None)
