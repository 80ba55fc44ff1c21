"""Seeded input encoders: rate, latency and delta-modulation coding.

Every encoder turns a float description of an input into a boolean spike
array ``[steps, size]`` (step-major). Every random choice is a pure function
of ``(seed, step, stream, index)`` through a counter-based hash
(:func:`uniform`), where ``stream`` is the population's stable id
(:func:`stable_id` of its name): the spikes of a population never depend on
placement, on other populations, or on how many steps were asked for (the
first ``k`` steps of a longer run equal a run of ``k`` steps).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from compiler.errors import EncoderError
from loihi_emu.sizes import check_alloc

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def stable_id(name: str) -> int:
    """A 63-bit id of a population name that is the same in every process (blake2b)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little") >> 1


def _mix(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finalizer on a uint64 array (wraps modulo 2^64)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def uniform(seed: int, stream: int, steps: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Uniform floats in [0, 1), one per (step, index) pair (broadcast), from a keyed hash.

    ``u = mix(mix(mix(mix(seed) ^ stream) ^ step) ^ index) >> 11 * 2^-53``:
    a pure function of its four integers.
    """
    mask = (1 << 64) - 1
    key = _mix(np.array([(int(seed) * 0x9E3779B97F4A7C15 + 1) & mask], np.uint64))
    key = _mix(key ^ np.uint64(int(stream) & mask))
    s = np.asarray(steps, np.int64).astype(np.uint64)
    i = np.asarray(index, np.int64).astype(np.uint64)
    h = _mix(_mix((key ^ (s * _GOLDEN)) + _GOLDEN) ^ i)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


class Encoder(Protocol):
    """What an input population needs from an encoder."""

    size: int

    def encode(self, steps: int, stream: int) -> np.ndarray:
        """Boolean spikes ``[steps, size]``; ``stream`` is the population's stable id."""
        ...


MAX_CHANNELS = 2**31 - 1
"""Most channels one encoder may have."""


def _numbers(name: str, value) -> np.ndarray:
    """``value`` as float64; strings, booleans, objects and ragged lists are refused."""
    try:
        raw = np.asarray(value)
    except (ValueError, TypeError):
        raise EncoderError(f"{name}: not a rectangular array of numbers") from None
    if raw.dtype.kind not in "iuf":
        raise EncoderError(f"{name}: must be numbers, got {raw.dtype}" + (" (booleans)" if raw.dtype.kind == "b" else ""))
    try:
        return raw.astype(np.float64)
    except OverflowError:
        raise EncoderError(f"{name}: a value is too large") from None


def _real(name: str, value, lo: float, strict: bool = False) -> float:
    """A finite number >= lo (> lo when strict); never a bool or a string."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise EncoderError(f"{name} = {value!r} must be a number")
    v = float(value)
    if not np.isfinite(v) or v < lo or (strict and v == lo):
        raise EncoderError(f"{name} = {value!r} must be finite and {'>' if strict else '>='} {lo:g}")
    return v


def _whole(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise EncoderError(f"{name} = {value!r} must be a whole number in {lo}..{hi}")
    return int(value)


def _vector(name: str, value, size: int | None) -> np.ndarray:
    if size is not None:
        size = _whole(f"{name.split('.')[0]}.size", size, 1, MAX_CHANNELS)
    arr = _numbers(name, value)
    if arr.ndim == 0:
        if size is None:
            raise EncoderError(f"{name}: a scalar needs size=")
        check_alloc(f"{name}: {size} channels", size, 64)
        arr = np.full(size, float(arr))
    if arr.ndim != 1 or (size is not None and arr.size != size):
        raise EncoderError(f"{name}: expected shape ({size if size is not None else 'n'},), got {arr.shape}")
    if not np.isfinite(arr).all():
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise EncoderError(f"{name}[{i}] = {arr[i]} is not finite")
    return arr


def check_steps(steps: int) -> int:
    """``steps`` as an int: a whole number >= 0 (not a bool, not a float)."""
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise EncoderError(f"steps must be a whole number >= 0, got {steps!r}")
    return int(steps)


@dataclass(frozen=True, eq=False)
class RateEncoder:
    """Rate (Bernoulli) coding: in every step, channel i spikes with probability ``intensity[i]``.

    intensity: probability per step, in [0, 1] (scalar with ``size``, or [size]).
    seed: with the population's stream, the only source of randomness:
    channel i spikes in step t iff ``uniform(seed, stream, t, i) < intensity[i]``.
    """

    intensity: np.ndarray
    size: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        arr = _vector("RateEncoder.intensity", self.intensity, self.size)
        bad = (arr < 0) | (arr > 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EncoderError(f"RateEncoder.intensity[{i}] = {arr[i]} is outside [0, 1] (a probability per step)")
        object.__setattr__(self, "seed", _whole("RateEncoder.seed", self.seed, -(2**63), 2**64 - 1))
        object.__setattr__(self, "intensity", arr)
        object.__setattr__(self, "size", arr.size)

    def encode(self, steps: int, stream: int) -> np.ndarray:
        steps = check_steps(steps)
        check_alloc(f"RateEncoder: {steps} steps x {self.size} channels", steps * self.size, 25)
        u = uniform(self.seed, stream, np.arange(steps)[:, None], np.arange(self.size)[None, :])
        return u < self.intensity[None, :]


@dataclass(frozen=True, eq=False)
class LatencyEncoder:
    """Latency coding: one spike per channel, earlier for stronger input.

    An RC circuit driven by a constant input ``I`` charges as
    ``V(t) = I (1 - exp(-t / tau))`` and reaches the threshold ``theta`` at
    ``t* = tau * ln(I / (I - theta))`` steps. Channel i spikes once, in step
    ``offset + ceil(t*)`` (the first whole step at which V has reached theta);
    it never spikes when ``I <= theta`` or when that step is past the run.
    tau: time constant in steps (> 0); theta: threshold in the units of I.
    """

    intensity: np.ndarray
    size: int | None = None
    tau: float = 10.0
    theta: float = 0.5
    offset: int = 0

    def __post_init__(self) -> None:
        arr = _vector("LatencyEncoder.intensity", self.intensity, self.size)
        object.__setattr__(self, "tau", _real("LatencyEncoder.tau (steps)", self.tau, 0, strict=True))
        object.__setattr__(self, "theta", _real("LatencyEncoder.theta", self.theta, 0))
        object.__setattr__(self, "offset", _whole("LatencyEncoder.offset (steps)", self.offset, 0, MAX_CHANNELS))
        object.__setattr__(self, "intensity", arr)
        object.__setattr__(self, "size", arr.size)

    def spike_times(self) -> np.ndarray:
        """Spike step of every channel (float; ``inf`` for none)."""
        cur = self.intensity
        t = np.full(cur.size, np.inf)
        on = cur > self.theta
        t[on] = self.offset + np.ceil(self.tau * np.log(cur[on] / (cur[on] - self.theta)))
        return t

    def encode(self, steps: int, stream: int) -> np.ndarray:
        steps = check_steps(steps)
        t = self.spike_times()
        check_alloc(f"LatencyEncoder: {steps} steps x {self.size} channels", steps * self.size, 1)
        out = np.zeros((steps, self.size), bool)
        hit = t < steps
        out[t[hit].astype(np.int64), np.flatnonzero(hit)] = True
        return out


@dataclass(frozen=True, eq=False)
class DeltaEncoder:
    """Delta modulation: spike when the signal moved by more than ``threshold`` since the last spike.

    signal: [T, n] floats, one column per channel. Output size is 2n: channels
    0..n-1 are *on* (the signal rose), n..2n-1 are *off* (it fell). The
    reference starts at ``signal[0]``; in step t >= 1, if
    ``signal[t] - ref > threshold`` the on-channel spikes, if
    ``ref - signal[t] > threshold`` the off-channel spikes, and either way
    ``ref = signal[t]``. Asking for more than T steps is an error.
    """

    signal: np.ndarray
    threshold: float = 0.1
    size: int = field(init=False)

    def __post_init__(self) -> None:
        sig = _numbers("DeltaEncoder.signal", self.signal)
        if sig.ndim == 1:
            sig = sig[:, None]
        if sig.ndim != 2 or sig.shape[0] == 0:
            raise EncoderError(f"DeltaEncoder.signal: expected shape [steps, channels], got {sig.shape}")
        if not np.isfinite(sig).all():
            t, i = np.argwhere(~np.isfinite(sig))[0]
            raise EncoderError(f"DeltaEncoder.signal[{t}, {i}] = {sig[t, i]} is not finite")
        object.__setattr__(self, "threshold", _real("DeltaEncoder.threshold", self.threshold, 0))
        object.__setattr__(self, "signal", sig)
        object.__setattr__(self, "size", 2 * sig.shape[1])

    def encode(self, steps: int, stream: int) -> np.ndarray:
        steps = check_steps(steps)
        sig = self.signal
        if steps > sig.shape[0]:
            raise EncoderError(f"DeltaEncoder: asked for {steps} steps but the signal has {sig.shape[0]}")
        n = sig.shape[1]
        out = np.zeros((steps, 2 * n), bool)
        ref = sig[0].copy()
        for t in range(1, steps):  # one vectorised update per step
            x = sig[t]
            up, down = x - ref > self.threshold, ref - x > self.threshold
            out[t, :n], out[t, n:] = up, down
            moved = up | down
            ref[moved] = x[moved]
        return out


ENCODERS = {"rate": RateEncoder, "latency": LatencyEncoder, "delta": DeltaEncoder}
"""Encoder kind (as the JSON format names it) -> class."""
