"""The refunded amount from the newest charge total and each refund's newest status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from donations.membership.adjustments import refunded_total
from donations.models import Refund

T = datetime(2026, 11, 1, 12, tzinfo=UTC)
S = timedelta(seconds=1)


def _r(refund_id: str, status: str, created: datetime, fact_at: datetime, amount: int = 1000):
    return Refund(
        stripe_refund_id=refund_id, status=status, created=created, fact_at=fact_at, amount=amount
    )


@pytest.mark.parametrize(
    ("charge_total", "refunds", "expected"),
    [
        # No charge total: the refunds that count add up.
        (None, [_r("re_a", "succeeded", T, T), _r("re_b", "failed", T, T)], 1000),
        # A refund after the total adds; one the total counted that failed since gives back.
        (1000, [_r("re_a", "failed", T - S, T + S), _r("re_b", "pending", T + S, T + S)], 1000),
        # Failed before the total: the total already left it out.
        (0, [_r("re_a", "failed", T - 2 * S, T - S)], 0),
        # The same second (the emulator, or a refund right after the payment): the total
        # counted the refund if it has room for it.
        (1000, [_r("re_a", "failed", T, T)], 0),
        (0, [_r("re_a", "failed", T - S, T)], 0),
        (0, [_r("re_a", "succeeded", T, T)], 1000),
        (1000, [_r("re_a", "succeeded", T, T)], 1000),
    ],
)
def test_the_refunded_total_from_a_charge_total_and_refund_statuses(
    charge_total, refunds, expected
):
    assert refunded_total(charge_total, None if charge_total is None else T, refunds) == expected
