"""Spike-train distances against hand computations (compiler/spike_metrics.py)."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.precision.metrics import first_spike, van_rossum, victor_purpura


def trains(steps: int, *spike_lists: list[int]) -> np.ndarray:
    out = np.zeros((steps, len(spike_lists)), np.uint8)
    for c, ts in enumerate(spike_lists):
        out[ts, c] = 1
    return out


def pairwise_van_rossum(ta: list[int], tb: list[int], tau: float) -> float:
    """Closed form: D^2 = 1/2 [sum_ij e^-|ai-aj|/tau + sum_ij e^-|bi-bj|/tau - 2 sum_ij e^-|ai-bj|/tau]."""
    k = lambda x, y: sum(np.exp(-abs(i - j) / tau) for i in x for j in y)  # noqa: E731
    return float(np.sqrt(0.5 * (k(ta, ta) + k(tb, tb) - 2 * k(ta, tb))))


@pytest.mark.parametrize("tau", [1.0, 10.0, 37.5])
def test_van_rossum_shift_by_one_step(tau):
    a, b = trains(40, [10]), trains(40, [11])
    assert van_rossum(a, b, tau)[0] == pytest.approx(np.sqrt(1 - np.exp(-1 / tau)), rel=1e-12)


def test_van_rossum_added_spike_and_identical():
    a, b = trains(30, [5], [3, 8]), trains(30, [], [3, 8])
    d = van_rossum(a, b, 10.0)
    assert d[0] == pytest.approx(np.sqrt(0.5), rel=1e-12)
    assert d[1] == 0.0


def test_van_rossum_two_spikes_vs_none():
    # f = e(t-2) + e(t-7): (1/tau) int f^2 = 1/2 + 1/2 + e^{-5/tau}
    a, b = trains(20, [2, 7]), trains(20, [])
    assert van_rossum(a, b, 4.0)[0] == pytest.approx(np.sqrt(1 + np.exp(-5 / 4)), rel=1e-12)


def test_van_rossum_spike_in_last_step_counts_its_tail():
    a, b = trains(10, [9]), trains(10, [])
    assert van_rossum(a, b, 3.0)[0] == pytest.approx(np.sqrt(0.5), rel=1e-12)


def test_van_rossum_matches_closed_form_on_random_trains():
    rng = np.random.default_rng(1)
    for _ in range(20):
        ta = sorted(rng.choice(60, rng.integers(0, 8), replace=False).tolist())
        tb = sorted(rng.choice(60, rng.integers(0, 8), replace=False).tolist())
        got = van_rossum(trains(60, ta), trains(60, tb), 6.0)[0]
        assert got == pytest.approx(pairwise_van_rossum(ta, tb, 6.0), rel=1e-9, abs=1e-12)


def test_van_rossum_rejects_bad_tau():
    with pytest.raises(ValueError, match="tau"):
        van_rossum(trains(5, [1]), trains(5, [1]), 0.0)


@pytest.mark.parametrize(("dt", "q", "expected"), [(1, 0.1, 0.1), (3, 0.5, 1.5), (4, 0.5, 2.0), (30, 0.1, 2.0),
                                                  (5, 0.0, 0.0)])
def test_victor_purpura_one_shifted_spike(dt, q, expected):
    # shifting costs q*dt; deleting and inserting costs 2: the cheaper one wins
    assert victor_purpura(trains(50, [10]), trains(50, [10 + dt]), q)[0] == pytest.approx(expected)


def test_victor_purpura_insert_delete_and_mixed():
    a = trains(20, [4], [0, 10], [], [1, 2, 3])
    b = trains(20, [], [2], [], [])
    d = victor_purpura(a, b, 0.5)
    assert d[0] == 1.0  # delete one spike
    assert d[1] == 2.0  # shift 0 -> 2 (1.0) and delete 10 (1.0)
    assert d[2] == 0.0
    assert d[3] == 3.0  # q = 0.5 cannot help without a partner
    assert victor_purpura(trains(20, [1, 2, 3]), trains(20, [5]), 0.0)[0] == 2.0  # q = 0: count difference


def test_first_spike():
    assert first_spike(trains(10, [3, 7], [], [0])).tolist() == [3, -1, 0]
