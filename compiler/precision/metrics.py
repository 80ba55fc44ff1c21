"""Distances between two sets of spike trains on the step grid.

Spike trains are ``[steps, n]`` 0/1 arrays (one column per compartment, a
spike in step ``k`` is an event at time ``k`` steps). Every function returns
one value per column.

* **van Rossum distance** (tau in steps): each train is filtered with a
  causal exponential ``exp(-t/tau)`` (unit height) and
  ``D = sqrt((1/tau) * integral (f - g)^2 dt)`` over all time, the tails
  after the last step included. One spike against none gives ``sqrt(1/2)``;
  one spike shifted by ``dt`` steps gives ``sqrt(1 - exp(-dt/tau))``. Between
  grid points the difference decays exactly by ``exp(-1/tau)``, so the
  integral is a sum over steps (exact, O(steps * n)).
* **Victor-Purpura distance** (cost ``q`` per step of shift): the cheapest
  way to turn one train into the other by deleting or inserting spikes (cost
  1 each) and shifting spikes (cost ``q * |dt|``). Shifting a spike by ``dt``
  costs ``min(q * dt, 2)``. Exact dynamic programme per column.
* **first-spike latency**: the step of the first spike, -1 for none.
"""

from __future__ import annotations

import numba
import numpy as np


def _as_trains(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 1:
        a, b = a[:, None], b[:, None] if b.ndim == 1 else b
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"spike trains have shapes {a.shape} and {b.shape}; expected equal [steps, n]")
    return a.astype(np.float64), b.astype(np.float64)


def van_rossum(a: np.ndarray, b: np.ndarray, tau: float = 10.0) -> np.ndarray:
    """van Rossum distance per column (dimensionless; tau in steps; see the module docstring)."""
    if not tau > 0:
        raise ValueError(f"van Rossum tau must be > 0 steps, got {tau}")
    a, b = _as_trains(a, b)
    k = np.exp(-1.0 / tau)
    d = np.zeros(a.shape[1])
    acc = np.zeros(a.shape[1])
    diff = a - b
    nz = np.flatnonzero(diff.any(axis=1))
    if nz.size == 0:
        return acc
    # d_k just after step k's spikes; between grid points d decays by exp(-(t-k)/tau)
    first, last = int(nz[0]), int(nz[-1])
    for s in range(first, last + 1):
        d = d * k + diff[s]
        if s < last:
            acc += d * d
    # (1/tau) * integral over [k, k+1) of (d e^{-t/tau})^2 = d^2 (1 - k^2) / 2 ; tail after the last change: d^2 / 2
    return np.sqrt(acc * (1.0 - k * k) / 2.0 + d * d / 2.0)


@numba.njit(cache=True)
def _vp_one(ta: np.ndarray, tb: np.ndarray, q: float) -> float:
    na, nb = ta.size, tb.size
    prev = np.arange(nb + 1).astype(np.float64)
    cur = np.empty(nb + 1)
    for i in range(1, na + 1):
        cur[0] = i
        for j in range(1, nb + 1):
            c = min(prev[j] + 1.0, cur[j - 1] + 1.0)
            c = min(c, prev[j - 1] + q * abs(ta[i - 1] - tb[j - 1]))
            cur[j] = c
        prev, cur = cur, prev
    return prev[nb]


def victor_purpura(a: np.ndarray, b: np.ndarray, q: float = 0.1) -> np.ndarray:
    """Victor-Purpura distance per column (q: cost per step of shift; see the module docstring)."""
    if not q >= 0:
        raise ValueError(f"Victor-Purpura cost q must be >= 0 per step, got {q}")
    a, b = _as_trains(a, b)
    out = np.zeros(a.shape[1])
    differ = np.flatnonzero((a != b).any(axis=0))
    for c in differ:
        ta = np.flatnonzero(a[:, c]).astype(np.float64)
        tb = np.flatnonzero(b[:, c]).astype(np.float64)
        out[c] = _vp_one(ta, tb, float(q))
    return out


def first_spike(trains: np.ndarray) -> np.ndarray:
    """Step of each column's first spike, -1 where it never spikes (int64 [n])."""
    t = np.asarray(trains).astype(bool)
    if t.ndim == 1:
        t = t[:, None]
    has = t.any(axis=0)
    return np.where(has, t.argmax(axis=0), -1).astype(np.int64)
