"""Delivery modes: `ordered` one at a time; `chaos` shuffled, duplicated, concurrent, seeded."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import stripe

from stripe_emulator import Emulator
from stripe_emulator.delivery import CHAOS_BATCH, chaos_plan

SEED = 20260


class Overlap:
    """A slow receiver that notes arrival order and how many requests overlapped."""

    def __init__(self) -> None:
        self.arrivals: list[str] = []
        self.active = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            self.arrivals.append(json.loads(body)["id"])
        time.sleep(0.02)
        with self.lock:
            self.active -= 1
        return 200


def _events(emu: Emulator, count: int) -> list[str]:
    client = stripe.StripeClient("sk_test_emulator", http_client=emu.http_client)
    for i in range(count):
        client.v1.customers.create(params={"email": f"c{i}@example.com"})
    return [e["id"] for e in emu.events()]


def test_chaos_plan_is_drawn_from_the_seed() -> None:
    seqs = list(range(1, 31))
    plan = chaos_plan(seqs, SEED)
    assert plan == chaos_plan(seqs, SEED)
    assert plan != chaos_plan(seqs, SEED + 1)
    sends = [seq for wave in plan for seq in wave]
    assert set(sends) == set(seqs)
    assert len(sends) > len(seqs)  # some are sent twice
    assert list(dict.fromkeys(sends)) != seqs  # not in creation order
    assert max(map(len, plan)) > 1  # some go out together


def test_ordered_mode_delivers_one_at_a_time_in_creation_order(
    emu_factory: Callable[..., Emulator],
) -> None:
    receiver = Overlap()
    emu = emu_factory(transport=receiver)
    created = _events(emu, 8)
    assert emu.deliver_pending(timeout=5) == 8
    assert receiver.arrivals == created
    assert receiver.most == 1


def test_chaos_mode_shuffles_duplicates_and_overlaps_as_the_seed_says(
    emu_factory: Callable[..., Emulator],
) -> None:
    receiver = Overlap()
    emu = emu_factory(transport=receiver, delivery="chaos", seed=SEED)
    created = _events(emu, CHAOS_BATCH)  # one batch, so one plan covers them all
    assert emu.deliver_pending(timeout=10) == CHAOS_BATCH  # a row counts once, sent twice or not
    assert all(r["status"] == "delivered" for r in emu.deliveries())
    seq_of = {r["event_id"]: r["seq"] for r in emu.deliveries()}
    plan = chaos_plan([seq_of[e] for e in created], SEED)
    # Waves go out one after another; inside a wave the order is the threads' business.
    arrivals = [seq_of[e] for e in receiver.arrivals]
    start = 0
    for wave in plan:
        assert Counter(arrivals[start : start + len(wave)]) == Counter(wave)
        start += len(wave)
    assert start == len(arrivals)
    assert len(arrivals) > CHAOS_BATCH and set(receiver.arrivals) == set(created)
    assert list(dict.fromkeys(receiver.arrivals)) != created
    assert receiver.most > 1


def test_the_same_seed_makes_the_same_run(
    emu_factory: Callable[..., Emulator], tmp_path: Path
) -> None:
    runs = []
    for name in ("first", "second"):
        receiver = Overlap()
        emu = emu_factory(
            path=tmp_path / f"{name}.sqlite3", transport=receiver, delivery="chaos", seed=SEED
        )
        created = _events(emu, 12)
        emu.deliver_pending(timeout=10)
        position = {event_id: i for i, event_id in enumerate(created)}
        runs.append(sorted(Counter(position[e] for e in receiver.arrivals).items()))
    assert runs[0] == runs[1]  # the same events sent, the same ones twice


def test_unknown_mode_is_refused(emu_factory: Callable[..., Emulator]) -> None:
    with pytest.raises(ValueError, match="ordered, chaos"):
        emu_factory(delivery="random")
