"""Stripe's form encoding (`a[b][0][c]=v`) parsed into nested dicts and lists, and param checks."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import StripeError, invalid, missing

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def parse_form(text: str) -> dict[str, Any]:
    """Parse `application/x-www-form-urlencoded` with Stripe's bracket nesting."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head] + (_SEGMENT.findall("[" + rest) if rest else [])
        node = root
        for i, part in enumerate(parts):
            if part == "":
                # `expand[]=a&expand[]=b`: an unindexed list item gets the next index.
                part = str(len(node))
            if i == len(parts) - 1:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid(key, f"Invalid array or hash: {key}")
                node = child
    return _listify(root)


def _listify(node: Any) -> Any:
    # Dicts keyed "0", "1", ... are Stripe arrays; everything else stays a hash.
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def as_dict(value: Any, param: str) -> dict[str, Any]:
    """Return a hash parameter, or raise Stripe's error for something else."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(param, f"Invalid object for {param}.", "parameter_invalid_object")
    return value


def as_list(value: Any, param: str) -> list[Any]:
    """Return an array parameter, or raise Stripe's error for something else."""
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        raise invalid(param, f"Invalid array for {param}.", "parameter_invalid_array")
    return value


def as_int(
    value: Any, param: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return an integer parameter (sent as text), checked against bounds."""
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise invalid(param, f"Invalid integer: {value}", "parameter_invalid_integer")
    number = int(text)
    if minimum is not None and number < minimum:
        raise invalid(
            param,
            f"This value must be greater than or equal to {minimum}.",
            "parameter_invalid_integer",
        )
    if maximum is not None and number > maximum:
        raise invalid(
            param,
            f"This value must be less than or equal to {maximum}.",
            "parameter_invalid_integer",
        )
    return number


def as_bool(value: Any, param: str) -> bool:
    """Return a boolean parameter (sent as "true"/"false")."""
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "false"):
        return text == "true"
    raise invalid(param, f"Invalid boolean: {value}", "parameter_invalid_boolean")


def required(params: dict[str, Any], name: str, prefix: str = "") -> Any:
    """Return a required parameter, or raise "Missing required param"."""
    value = params.get(name)
    if value is None or value == "" or value == {} or value == []:
        raise missing(prefix + name)
    return value


def metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """Validate a metadata hash as Stripe does (keys up to 40 chars, values up to 500)."""
    data = as_dict(value, param)
    if len(data) > 50:
        raise invalid(param, "Metadata can have at most 50 keys.")
    for key, val in data.items():
        if len(key) > 40:
            raise invalid(f"{param}[{key}]", "Metadata keys can be at most 40 characters.")
        if not isinstance(val, str):
            raise invalid(f"{param}[{key}]", "Metadata values must be strings.")
        if len(val) > 500:
            raise invalid(f"{param}[{key}]", "Metadata values can be at most 500 characters.")
    return {k: str(v) for k, v in data.items()}


def merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    """Apply a metadata update: `metadata=` clears it, `metadata[k]=` removes one key."""
    if update == "":
        return {}
    merged = dict(current)
    for key, val in metadata(update).items():
        if val == "":
            merged.pop(key, None)
        else:
            merged[key] = val
    return merged


def reject_unknown(params: dict[str, Any], allowed: set[str]) -> None:
    """Raise Stripe's "Received unknown parameter" for a top-level name we don't know."""
    for name in params:
        if name not in allowed and name != "expand":
            raise StripeError(f"Received unknown parameter: {name}", param=name)
