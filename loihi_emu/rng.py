"""The project's one counter-based random generator (pure numpy and Python; no numba).

Every random choice is a pure function of integers, never of a carried
state, so results do not depend on placement, threads, processes or the
order of draws. Both constructions below are built from the splitmix64
finalizer ``mix`` (Steele, Lea and Flood, "Fast splittable pseudorandom
number generators", OOPSLA 2014), all arithmetic modulo 2^64,
``G = 0x9E3779B97F4A7C15`` (the golden-ratio increment):

* learning draws (stochastic rounding; :mod:`loihi_emu.learning.random`
  holds the jitted twins built from these constants)::

      draw(seed, step, stream, id) = mix(mix(mix(seed + G) + step * G + stream) + id * G)

* input-generator uniforms (rate and Poisson inputs,
  :mod:`loihi_emu.image.input_eval`)::

      key = mix(mix(seed * G + 1) ^ stream)
      u(seed, stream, step, i) = (mix(mix((key ^ step * G) + G) ^ i) >> 11) * 2^-53   in [0, 1)

``stream`` of an input group is :func:`stable_id` of its population name.

* compartment noise (:mod:`loihi_emu.runtime.noise`, docs/noise.md): the
  learning draw of stream :data:`STREAM_NOISE` and id = the global
  compartment index, mapped to an integer in -127..127::

      r(seed, step, g) = ((draw(seed, step, STREAM_NOISE, g) >> 32) * 255 >> 32) - 127
"""

from __future__ import annotations

import hashlib

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
MASK64 = (1 << 64) - 1
STREAM_NOISE = 8  # learning draws use streams 0..7 (loihi_emu.learning.random)


def stable_id(name: str) -> int:
    """A 63-bit id of a name that is the same in every process and machine (blake2b)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little") >> 1


def mix_python(z: int) -> int:
    """The splitmix64 finalizer on a Python integer (masked to 64 bits)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def mix_numpy(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer on a uint64 array (wraps modulo 2^64)."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        return z ^ (z >> np.uint64(31))


# ------------------------------------------------------------------ learning draws
def draw_key(seed: int, step: int, stream: int) -> int:
    """``mix(mix(seed + G) + step * G + stream)``: the part of a draw shared by all ids."""
    return mix_python(mix_python(seed + GOLDEN) + step * GOLDEN + stream)


def draw_python(seed: int, step: int, stream: int, ident: int) -> int:
    """The reference learning draw: Python integers masked to 64 bits."""
    return mix_python(draw_key(seed, step, stream) + ident * GOLDEN)


def draw_numpy(key: np.uint64 | int, ident: np.ndarray) -> np.ndarray:
    """uint64 [k] learning draws for ids ``ident`` (int64 [k], >= 0) given the stream's key."""
    with np.errstate(over="ignore"):
        ids = np.asarray(ident).astype(np.uint64) * np.uint64(GOLDEN)
        return mix_numpy(np.uint64(key) + ids)


# ------------------------------------------------------------------ input uniforms
def uniform_key(seed: int, stream: int) -> int:
    """``mix(mix(seed * G + 1) ^ stream)``: the part of an input uniform shared by every (step, channel)."""
    return mix_python(mix_python((int(seed) * GOLDEN + 1) & MASK64) ^ (int(stream) & MASK64))


def uniform(seed: int, stream: int, steps: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1), one per (step, index) pair (broadcast): a pure function of the four integers."""
    key = np.uint64(uniform_key(seed, stream))
    g = np.uint64(GOLDEN)
    s = np.asarray(steps, np.int64).astype(np.uint64)
    i = np.asarray(index, np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = mix_numpy(mix_numpy((key ^ (s * g)) + g) ^ i)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def uniform_python(seed: int, stream: int, step: int, index: int) -> float:
    """:func:`uniform` for one (step, index) in Python integers (the reference the tests compare with)."""
    key = uniform_key(seed, stream)
    h = mix_python(mix_python(((key ^ ((step * GOLDEN) & MASK64)) + GOLDEN) & MASK64) ^ index)
    return (h >> 11) * (1.0 / (1 << 53))


# ------------------------------------------------------------------ noise draws
def noise_r_python(seed: int, step: int, ident: int, r_max: int = 127) -> int:
    """The compartment-noise draw r in -r_max..r_max (Python integers; the reference)."""
    h = draw_python(seed, step, STREAM_NOISE, ident)
    return (((h >> 32) * (2 * r_max + 1)) >> 32) - r_max
