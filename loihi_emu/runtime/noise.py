"""Compartment noise (docs/noise.md): the draw and the scaling, as a jitted scalar and a numpy twin.

Noise of compartment g in step t (nengo-loihi's emulator arithmetic, with
the project's counter-based draw in place of a carried generator)::

    r     = ((draw(seed, t, STREAM_NOISE, g) >> 32) * 255 >> 32) - 127     in -127..127
    y     = r + 64 * noise_offset
    noise = y << (noise_exp - 7)            when noise_exp >= 7
          = sign(y) * (|y| >> (7 - noise_exp))  otherwise (truncation toward zero)

added, in v units, to q (noise_mode 1, before q wraps) or to u2 (mode 2,
after the bias, before u2 wraps). ``draw`` is :func:`loihi_emu.rng.draw_python`;
the step kernels get ``noise_base = mix(seed + G)`` and form the step's key
``mix(noise_base + t * G + STREAM_NOISE)`` themselves, so the noise is a pure
function of (seed, t, g): independent of cores, threads and processes.
"""

from __future__ import annotations

import numba
import numpy as np

from loihi_emu.rng import GOLDEN, MIX1, MIX2, STREAM_NOISE, mix_numpy, mix_python

R_SPAN = np.uint64(255)  # 2 * 127 + 1 values of r


def noise_base(seed: int) -> np.ndarray:
    """uint64 [1]: ``mix(seed + G)``, the part of every noise key that depends on the seed only."""
    return np.array([mix_python(int(seed) + GOLDEN)], np.uint64)


@numba.njit(cache=True, inline="always")
def _mix(z):  # pragma: no cover - jitted
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def noise_key(base, t):  # pragma: no cover - jitted
    """The key of step t: ``mix(base + t * G + STREAM_NOISE)`` (uint64)."""
    return _mix(np.uint64(base) + np.uint64(t) * np.uint64(GOLDEN) + np.uint64(STREAM_NOISE))


@numba.njit(cache=True, inline="always")
def noise_value(key, g, shift, off):  # pragma: no cover - jitted
    """Noise of compartment g (int64, v units) given the step's key, ``shift = exp - 7`` and ``off = 64 * offset``."""
    h = _mix(key + np.uint64(g) * np.uint64(GOLDEN))
    y = np.int64(((h >> np.uint64(32)) * R_SPAN) >> np.uint64(32)) - 127 + off
    if shift >= 0:
        return y << shift
    if y < 0:
        return -((-y) >> -shift)
    return y >> -shift


def noise_numpy(a, t: int) -> np.ndarray:
    """int64 [n]: the noise of every compartment in step t (0 where noise_mode is 0); numpy twin of noise_value."""
    with np.errstate(over="ignore"):
        key = mix_numpy(a.noise_base[0] + np.uint64(t) * np.uint64(GOLDEN) + np.uint64(STREAM_NOISE))
        g = np.arange(a.noise_mode.shape[0], dtype=np.uint64)
        h = mix_numpy(key + g * np.uint64(GOLDEN))
    y = (((h >> np.uint64(32)) * R_SPAN) >> np.uint64(32)).astype(np.int64) - 127 + a.noise_off
    sh = a.noise_shift.astype(np.int64)
    up = y << np.maximum(sh, 0)
    down = np.sign(y) * (np.abs(y) >> np.maximum(-sh, 0))
    return np.where(a.noise_mode != 0, np.where(sh >= 0, up, down), 0)
