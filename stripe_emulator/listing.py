"""Stripe list semantics (limit, starting_after, ending_before, created filters) and expand."""

from __future__ import annotations

import copy
from typing import Any

from . import includable
from . import objects as o
from .errors import invalid, no_such
from .forms import as_dict, as_int, as_list
from .store import Tx


def paginate(items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
    """Return one page of `items` (newest first) as Stripe's list object."""
    limit = as_int(params.get("limit", 10), "limit", minimum=1, maximum=100)
    after = params.get("starting_after") or None
    before = params.get("ending_before") or None
    ids = [item["id"] for item in items]
    if after:
        if after not in ids:
            raise no_such("object", after, param="starting_after")
        items = items[ids.index(after) + 1 :]
        page, has_more = items[:limit], len(items) > limit
    elif before:
        if before not in ids:
            raise no_such("object", before, param="ending_before")
        items = items[: ids.index(before)]
        page, has_more = items[-limit:], len(items) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return o.stripe_list(page, url, has_more)


def filter_created(items: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply `created` (exact) or `created[gt|gte|lt|lte]` filters."""
    created = params.get("created")
    if created in (None, ""):
        return items
    if not isinstance(created, dict):
        exact = as_int(created, "created")
        return [i for i in items if i["created"] == exact]
    bounds = as_dict(created, "created")
    tests = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    for op, value in bounds.items():
        if op not in tests:
            raise invalid(f"created[{op}]", f"Received unknown parameter: created[{op}]")
        bound = as_int(value, f"created[{op}]")
        items = [i for i in items if tests[op](i["created"], bound)]
    return items


def filter_eq(items: list[dict[str, Any]], params: dict[str, Any], *names: str) -> list[Any]:
    """Keep items whose fields equal the given parameters (e.g. `customer`)."""
    for name in names:
        value = params.get(name)
        if value not in (None, ""):
            items = [i for i in items if i.get(name) == value]
    return items


def render(tx: Tx, obj: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Return the public form of an object or list with `expand[]` paths applied."""
    result = copy.deepcopy(obj)
    expand = [str(path) for path in as_list(params.get("expand"), "expand")]
    for path in expand:
        parts = path.split(".")
        if len(parts) > 4:
            raise invalid("expand", f"You cannot expand more than 4 levels of a property: {path}")
        _expand(tx, result, parts)
    # Includable lists (invoice.payments) go out only where `expand` asked for them.
    includable.strip(result, includable.expanded_paths(expand))
    return o.public(result)


def _expand(tx: Tx, node: Any, parts: list[str]) -> None:
    if isinstance(node, list):
        for child in node:
            _expand(tx, child, parts)
        return
    if not isinstance(node, dict) or not parts:
        return
    key, rest = parts[0], parts[1:]
    if key not in node and o.PRIVATE + key in node:
        # Includable fields (a session's line_items) are kept aside until asked for.
        node[key] = node[o.PRIVATE + key]
    if key not in node:
        raise invalid("expand", f"This property cannot be expanded ({key}).")
    value = node[key]
    if isinstance(value, str):
        found = tx.get(value)
        if found is not None:
            node[key] = value = found
    _expand(tx, value, rest)
