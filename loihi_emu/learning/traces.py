"""Trace stages of the learning engine, each as a numba kernel and a numpy twin.

Traces are unsigned ``trace_bits`` integers (0..127). x1, x2 live per source
(``[2, n_src + 1]``: sources ``0 .. n_src - 1`` and one spare entry for
plastic rows no route reaches, which never spikes), y1..y3 per compartment
(``[3, n]``). A trace whose tau is 0 is off: its impulse is 0 and it stays 0.

Stage ``impulse`` (reads: the sources that spiked in step t-1; sets: the
arrival steps ``x_last``, ``y_last`` to t; increments, saturating: the
traces). SEMANTICS-learning.md step 1: a spike of step t-1 arrives in step
t, at the core, whatever its synaptic delay.

Stage ``decay`` (reads and sets: every trace) ``x <- floor(x * (tau - 1) / tau)``
in integers; with stochastic rounding the quotient rounds up with
probability (remainder / tau), using the draw of (seed, step, trace stream,
global id) from :mod:`loihi_emu.learning.random`:
``up = ((draw >> 32) * tau) >> 32 < remainder``.
"""

from __future__ import annotations

import numba
import numpy as np

from loihi_emu.learning.random import draw_numba
from loihi_emu.rng import GOLDEN, mix_numpy

RUNS = 16  # as loihi_emu.learning.rule.RUNS: contiguous runs of trace entries over the threads


def impulse_numpy(a, t: int, src: np.ndarray) -> None:
    """Stage ``impulse`` of step t over ``a`` (a LearningArrays); src: int64 [k] sources that
    spiked in step t-1 (inputs ``< a.n_in``, compartment g as ``n_in + g``)."""
    src = np.asarray(src, np.int64)
    n_in, x_last, y_last, x_tr, x_imp, y_tr, y_imp = a.n_in, a.x_last, a.y_last, a.x_tr, a.x_imp, a.y_tr, a.y_imp
    trace_max = a.trace_max
    x_last[src] = t
    x_tr[:, src] = np.minimum(x_tr[:, src] + x_imp[:, src], trace_max)
    comp = src[src >= n_in] - n_in
    y_last[comp] = t
    y_tr[:, comp] = np.minimum(y_tr[:, comp] + y_imp[:, comp], trace_max)


def _decay_rows_numpy(tr, tau, rnd, keys, stream0, ident) -> None:
    for k in range(tr.shape[0]):
        v = tr[k].astype(np.int64)
        ta = tau[k].astype(np.int64)
        on = ta > 0
        num = v * np.maximum(ta - 1, 0)
        q = np.where(on, num // np.maximum(ta, 1), 0)
        rem = num - q * np.maximum(ta, 1)
        ids = ident.astype(np.uint64)
        with np.errstate(over="ignore"):
            h = mix_numpy(np.uint64(keys[stream0 + k]) + ids * np.uint64(GOLDEN))
        u = ((h >> np.uint64(32)) * ta.astype(np.uint64)) >> np.uint64(32)
        up = on & (rnd != 0) & (rem > 0) & (u < rem.astype(np.uint64))
        tr[k] = (q + up).astype(tr.dtype)


def decay_numpy(a, keys: np.ndarray) -> None:
    """Decay every trace of ``a`` once. keys: uint64 [8] stream keys of (seed, step); x uses streams 0, 1, y 2..4."""
    _decay_rows_numpy(a.x_tr, a.x_tau, a.x_round, keys, 0, a.x_id)
    _decay_rows_numpy(a.y_tr, a.y_tau, a.y_round, keys, 2, a.y_id)


@numba.njit(cache=True, nogil=True)
def impulse_numba(a, t, src) -> None:  # pragma: no cover - jitted
    n_in, x_last, y_last, x_tr, x_imp, y_tr, y_imp = a.n_in, a.x_last, a.y_last, a.x_tr, a.x_imp, a.y_tr, a.y_imp
    trace_max = a.trace_max
    for i in range(src.shape[0]):
        s = src[i]
        x_last[s] = t
        for k in range(x_tr.shape[0]):
            v = x_tr[k, s] + x_imp[k, s]
            x_tr[k, s] = v if v < trace_max else trace_max
        if s >= n_in:
            c = s - n_in
            y_last[c] = t
            for k in range(y_tr.shape[0]):
                v = y_tr[k, c] + y_imp[k, c]
                y_tr[k, c] = v if v < trace_max else trace_max


@numba.njit(cache=True, nogil=True)
def _decay_rows(tr, tau, rnd, keys, stream0, ident, lo=0, hi=-1):  # pragma: no cover - jitted
    """Decay entries lo..hi-1 (hi -1: to the end) of every row of ``tr``; each entry is its own (draws keyed by ident[i])."""
    if hi < 0:
        hi = tr.shape[1]
    for k in range(tr.shape[0]):
        key = keys[stream0 + k]
        for i in range(lo, hi):
            ta = np.int64(tau[k, i])
            v = np.int64(tr[k, i])
            if ta == 0 or v == 0:
                tr[k, i] = 0
                continue
            num = v * (ta - 1)
            q = num // ta
            rem = num - q * ta
            if rnd[i] != 0 and rem > 0:
                h = draw_numba(key, ident[i])
                u = ((h >> np.uint64(32)) * np.uint64(ta)) >> np.uint64(32)
                if u < np.uint64(rem):
                    q += 1
            tr[k, i] = q


@numba.njit(cache=True, nogil=True)
def decay_numba(a, keys) -> None:  # pragma: no cover - jitted
    _decay_rows(a.x_tr, a.x_tau, a.x_round, keys, 0, a.x_id)
    _decay_rows(a.y_tr, a.y_tau, a.y_round, keys, 2, a.y_id)


@numba.njit(cache=True, nogil=True, parallel=True)
def _decay_split(tr, tau, rnd, keys, stream0, ident):  # pragma: no cover - jitted
    m = tr.shape[1]
    n_chunks = max(1, min(RUNS, m))  # numba spreads the runs over its threads
    chunk = (m + n_chunks - 1) // n_chunks
    for c in numba.prange(n_chunks):
        _decay_rows(tr, tau, rnd, keys, stream0, ident, min(m, c * chunk), min(m, (c + 1) * chunk))


@numba.njit(cache=True, nogil=True)
def decay_numba_parallel(a, keys) -> None:  # pragma: no cover - jitted
    """decay_numba with each trace row split into RUNS contiguous ranges of entries over the threads (same bits)."""
    _decay_split(a.x_tr, a.x_tau, a.x_round, keys, 0, a.x_id)
    _decay_split(a.y_tr, a.y_tau, a.y_round, keys, 2, a.y_id)
