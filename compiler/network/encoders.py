"""Seeded input encoders: rate (Bernoulli), Poisson, latency and delta-modulation coding.

Every encoder turns a float description of an input into a boolean spike
array ``[steps, size]`` (step-major). Every random choice is a pure function
of ``(seed, step, stream, index)`` through a counter-based hash
(:func:`uniform`), where ``stream`` is the population's stable id
(:func:`stable_id` of its name): the spikes of a population never depend on
placement, on other populations, or on how many steps were asked for (the
first ``k`` steps of a longer run equal a run of ``k`` steps).

The arithmetic lives in :mod:`loihi_emu.image.input_eval` and the hash
in :mod:`loihi_emu.rng`: the encoders check their parameters and call it, and
:meth:`to_group` describes the same input to the board image, whose emulator
evaluates it with the same functions (bit-identical spikes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from compiler.errors import EncoderError
from loihi_emu.image.input_eval import (
    delta_spikes,
    latency_spikes,
    latency_times,
    poisson_probability,
    rate_spikes,
)
from loihi_emu.image.inputs import InputGroup
from loihi_emu.rng import stable_id, uniform  # noqa: F401  (re-exported: compiler.stable_id, compiler.uniform)
from loihi_emu.sizes import check_alloc


class Encoder(Protocol):
    """What an input population needs from an encoder."""

    size: int

    def encode(self, steps: int, stream: int) -> np.ndarray:
        """Boolean spikes ``[steps, size]``; ``stream`` is the population's stable id."""
        ...

    def to_group(self, name: str, first: int, stream: int) -> InputGroup:
        """The board image's input group that makes the same spikes (:mod:`loihi_emu.image.inputs`)."""
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
        return rate_spikes(self.seed, stream, self.intensity, 0, steps)

    def to_group(self, name: str, first: int, stream: int) -> InputGroup:
        return InputGroup(name, first, self.size, "rate", self.seed, stream, {}, {"p": self.intensity})


@dataclass(frozen=True, eq=False)
class PoissonEncoder:
    """Poisson coding: channel i fires at ``rate_hz[i]`` Hz, with steps of ``dt`` seconds.

    In every step channel i spikes (at most once) with probability
    ``1 - exp(-rate_hz[i] * dt)``, the chance that a Poisson process of that
    rate has at least one event in the step; the draw is
    ``uniform(seed, stream, t, i)`` as for :class:`RateEncoder`.
    rate_hz: Hz, >= 0 (scalar with ``size``, or [size]); dt: seconds per step (> 0, default 1 ms).
    """

    rate_hz: np.ndarray
    size: int | None = None
    dt: float = 0.001
    seed: int = 0

    def __post_init__(self) -> None:
        arr = _vector("PoissonEncoder.rate_hz", self.rate_hz, self.size)
        if (arr < 0).any():
            i = int(np.flatnonzero(arr < 0)[0])
            raise EncoderError(f"PoissonEncoder.rate_hz[{i}] = {arr[i]} is negative (a rate in Hz)")
        object.__setattr__(self, "dt", _real("PoissonEncoder.dt (seconds per step)", self.dt, 0, strict=True))
        object.__setattr__(self, "seed", _whole("PoissonEncoder.seed", self.seed, -(2**63), 2**64 - 1))
        object.__setattr__(self, "rate_hz", arr)
        object.__setattr__(self, "size", arr.size)

    def encode(self, steps: int, stream: int) -> np.ndarray:
        steps = check_steps(steps)
        check_alloc(f"PoissonEncoder: {steps} steps x {self.size} channels", steps * self.size, 25)
        return rate_spikes(self.seed, stream, poisson_probability(self.rate_hz, self.dt), 0, steps)

    def to_group(self, name: str, first: int, stream: int) -> InputGroup:
        return InputGroup(name, first, self.size, "poisson", self.seed, stream, {"dt": self.dt},
                          {"rate_hz": self.rate_hz})


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
        return latency_times(self.intensity, self.tau, self.theta, int(self.offset))

    def encode(self, steps: int, stream: int) -> np.ndarray:
        steps = check_steps(steps)
        check_alloc(f"LatencyEncoder: {steps} steps x {self.size} channels", steps * self.size, 1)
        return latency_spikes(self.spike_times(), 0, steps)

    def to_group(self, name: str, first: int, stream: int) -> InputGroup:
        return InputGroup(name, first, self.size, "latency", 0, stream,
                          {"tau": self.tau, "theta": self.theta, "offset": self.offset}, {"intensity": self.intensity})


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
        return delta_spikes(sig, self.threshold, 0, steps)

    def to_group(self, name: str, first: int, stream: int) -> InputGroup:
        return InputGroup(name, first, self.size, "delta", 0, stream, {"threshold": self.threshold},
                          {"signal": self.signal})


ENCODERS = {"rate": RateEncoder, "poisson": PoissonEncoder, "latency": LatencyEncoder, "delta": DeltaEncoder}
"""Encoder kind (as the JSON format names it) -> class."""
