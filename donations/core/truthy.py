"""The strings that say "yes" in a setting or a form field: one list for the whole app."""

from __future__ import annotations

TRUE_STRINGS = frozenset({"1", "true", "yes", "on"})


def is_true(value: object) -> bool:
    """True when the value, trimmed and in any letter case, is one of TRUE_STRINGS."""
    return str(value).strip().lower() in TRUE_STRINGS
