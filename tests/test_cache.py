"""The read cache in front of the hot paths (donations/core/cache.py)."""

from __future__ import annotations

from donations.core.cache import Cache


def test_a_read_that_a_drop_overtook_is_not_kept_after_it():
    cache = Cache(seconds=3600)

    def racing_read() -> str:
        # The writer's commit lands, and drops the key, while this read is under way.
        cache.delete("members")
        return "before the change"

    assert cache.get("members", racing_read) == "before the change"
    assert cache.get("members", lambda: "after the change") == "after the change"
    assert cache.get("members", lambda: "not read again") == "after the change"


def test_a_value_is_kept_until_it_is_dropped():
    cache = Cache(seconds=3600)
    assert cache.get("members", lambda: 1) == 1
    assert cache.get("members", lambda: 2) == 1
    cache.delete("members")
    assert cache.get("members", lambda: 3) == 3
