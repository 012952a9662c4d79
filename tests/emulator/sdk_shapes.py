"""Which fields Stripe fills in only on `expand`, read from the SDK's types (made from the spec).

stripe-python is generated from the OpenAPI spec. A field the spec lists in
`x-expandableFields` as "an id, or the object when expanded" is typed
`ExpandableField[...]` (a Union of `str` and the object); an includable list (`invoice.payments`,
`charge.refunds`, `checkout.session.line_items`) is an optional `ListObject[...]`, while lists
Stripe always sends (`invoice.lines`, `subscription.items`) are not optional.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import stripe
from stripe import StripeObject
from stripe._list_object import ListObject
from stripe._object_classes import get_object_class


def _resolve(annotation: Any) -> Any:
    if isinstance(annotation, typing.ForwardRef):
        return getattr(stripe, annotation.__forward_arg__, None)
    return annotation


def _is_model(annotation: Any) -> bool:
    annotation = _resolve(annotation)
    return isinstance(annotation, type) and issubclass(annotation, StripeObject)


def _hints(cls: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        found.update(getattr(klass, "__annotations__", {}))
    return found


def unasked_fields(obj: dict[str, Any], path: str = "") -> list[str]:
    """Paths in a Stripe object that hold an expanded object or an includable list."""
    cls = get_object_class("V1", str(obj.get("object"))) if obj.get("object") else None
    return _walk(cls or StripeObject, obj, path)


def _walk(cls: Any, obj: dict[str, Any], path: str) -> list[str]:
    hints = _hints(cls)
    found: list[str] = []
    for key, value in obj.items():
        if key in hints and value is not None:
            found += _check(hints[key], value, f"{path}{key}")
    return found


def _check(annotation: Any, value: Any, path: str) -> list[str]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if str in members and any(_is_model(a) for a in members):
            return [] if isinstance(value, str) else [path]  # expandable: must be an id
        if type(None) in args and any(typing.get_origin(a) is ListObject for a in members):
            return [path]  # includable list: only when expanded
        return _check(members[0], value, path) if len(members) == 1 else []
    if origin is list and isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _check(args[0], v, f"{path}[{i}]")]
    if origin is ListObject and isinstance(value, dict):
        item = _resolve(args[0])
        return [
            p
            for i, v in enumerate(value.get("data") or [])
            for p in (_walk(item, v, f"{path}.data[{i}].") if isinstance(v, dict) else [])
        ]
    if _is_model(annotation) and isinstance(value, dict):
        nested = _resolve(annotation)
        kind = value.get("object")
        cls = get_object_class("V1", str(kind)) if kind else None
        return _walk(cls or nested, value, f"{path}.")
    return []
