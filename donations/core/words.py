"""Counted nouns in the operator's output: "1 object", "0 objects", "2 subscriptions"."""

from __future__ import annotations


def count_of(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun, singular only for exactly one (English: "0 objects")."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
