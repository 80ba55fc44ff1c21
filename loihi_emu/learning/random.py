"""The counter-based generator behind stochastic rounding.

A draw is a pure function of (seed, step, stream, id): no state is carried
from one draw to the next, so results are reproducible and do not depend on
how the network is split over cores or threads, nor on the order in which
draws are made. Built from the splitmix64 finalizer ``mix`` (Steele, Lea and
Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):

    draw(seed, step, stream, id) = mix(mix(mix(seed + G) + step * G + stream) + id * G)

all arithmetic modulo 2^64, G = 0x9E3779B97F4A7C15 (the golden-ratio
increment). Streams: 0..4 the traces x1, x2, y1, y2, y3 (id: the global
source index for x, the global compartment index for y); 5, 6, 7 the weight,
delay and tag steps (id: the stable plastic-synapse index).

``draw_numba`` (scalar, jitted) and ``draw_numpy`` (vectorised) give the
same bits; ``tests/test_learning_random.py`` checks them against each other
and against a pure-Python big-integer version.
"""

from __future__ import annotations

import numba
import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
MASK64 = (1 << 64) - 1

STREAM_TRACE = 0  # + trace number (x1, x2, y1, y2, y3)
STREAM_W, STREAM_D, STREAM_T = 5, 6, 7


def _mix_python(z: int) -> int:
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def draw_key(seed: int, step: int, stream: int) -> int:
    """``mix(mix(seed + G) + step * G + stream)``: the part of a draw shared by all ids."""
    return _mix_python(_mix_python(seed + GOLDEN) + step * GOLDEN + stream)


def draw_python(seed: int, step: int, stream: int, ident: int) -> int:
    """The reference draw: Python integers masked to 64 bits."""
    return _mix_python(draw_key(seed, step, stream) + ident * GOLDEN)


def keys_for_step(seed: int, step: int) -> np.ndarray:
    """uint64 [8]: the key of every stream for this (seed, step)."""
    return np.array([draw_key(seed, step, s) for s in range(8)], np.uint64)


def _mix_numpy(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


def draw_numpy(key: np.uint64 | int, ident: np.ndarray) -> np.ndarray:
    """uint64 [k] draws for ids ``ident`` (int64 [k], >= 0) given the stream's key."""
    with np.errstate(over="ignore"):
        ids = np.asarray(ident).astype(np.uint64) * np.uint64(GOLDEN)
        return _mix_numpy(np.uint64(key) + ids)


@numba.njit(cache=True, inline="always")
def _mix(z):  # pragma: no cover - jitted
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def draw_numba(key, ident):  # pragma: no cover - jitted
    """The draw for ``ident`` given ``key = draw_key(seed, step, stream)`` (uint64)."""
    return _mix(np.uint64(key) + np.uint64(ident) * np.uint64(GOLDEN))

