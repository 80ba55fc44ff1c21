"""The jitted twins of the learning draw; constants and the numpy/Python versions live in :mod:`loihi_emu.rng`.

A draw is a pure function of (seed, step, stream, id) (see :mod:`loihi_emu.rng`):

    draw(seed, step, stream, id) = mix(mix(mix(seed + G) + step * G + stream) + id * G)

Streams: 0..4 the traces x1, x2, y1, y2, y3 (id: the global source index
for x, the global compartment index for y); 5, 6, 7 the weight, delay and
tag steps (id: the stable plastic-synapse index).

``draw_numba`` (scalar, jitted) and ``draw_numpy`` (vectorised) give the
same bits; ``tests/test_learning_kernels.py`` checks them against each other
and against the pure-Python big-integer version.
"""

from __future__ import annotations

import numba
import numpy as np

from loihi_emu.rng import (  # noqa: F401  (re-exported for the learning kernels)
    GOLDEN,
    MASK64,
    MIX1,
    MIX2,
    draw_key,
    draw_numpy,
    draw_python,
)

STREAM_TRACE = 0  # + trace number (x1, x2, y1, y2, y3)
STREAM_W, STREAM_D, STREAM_T = 5, 6, 7


def keys_for_step(seed: int, step: int) -> np.ndarray:
    """uint64 [8]: the key of every stream for this (seed, step)."""
    return np.array([draw_key(seed, step, s) for s in range(8)], np.uint64)


@numba.njit(cache=True, inline="always")
def _mix(z):  # pragma: no cover - jitted
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def draw_numba(key, ident):  # pragma: no cover - jitted
    """The draw for ``ident`` given ``key = draw_key(seed, step, stream)`` (uint64)."""
    return _mix(np.uint64(key) + np.uint64(ident) * np.uint64(GOLDEN))
