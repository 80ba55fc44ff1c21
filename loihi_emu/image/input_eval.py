"""Evaluating an input program for a range of steps: the generator arithmetic, in one place.

The compiler's encoders (:mod:`compiler.network.encoders`) call these same
functions, so what the emulator plays from an image is bit-identical to
``Network.input_array``. Every function returns boolean spikes
``[t1 - t0, size]`` for the absolute steps ``t0 .. t1 - 1`` and is a pure
function of its arguments (for the random kinds, of ``(seed, stream, step,
channel)`` through :func:`loihi_emu.rng.uniform`): steps ``t0..t1`` come out
the same whether they are asked for alone or as part of a longer range.

* rate: channel i spikes in step t iff ``uniform(seed, stream, t, i) < p[i]``;
* poisson: the same with ``p = 1 - exp(-rate_hz * dt)`` (the chance of at
  least one event of a Poisson process in one step of ``dt`` seconds);
* latency: one spike per channel in step ``offset + ceil(tau ln(I / (I - theta)))``
  when ``I > theta`` (an RC circuit driven by ``I`` reaching ``theta``);
* delta: on/off spikes when the signal moved by more than ``threshold``
  since the last spike (reference starts at ``signal[0]``); silent after the signal;
* spikes: the stored (step, channel) pairs; silent after ``length``.
"""

from __future__ import annotations

import numpy as np

from loihi_emu.errors import InputError
from loihi_emu.image.inputs import InputGroup, InputProgram
from loihi_emu.rng import uniform


def _range(t0: int, t1: int) -> tuple[int, int]:
    t0, t1 = int(t0), int(t1)
    if t0 < 0 or t1 < t0:
        raise InputError(f"input steps {t0}..{t1} are not a range of steps >= 0")
    return t0, t1


def rate_spikes(seed: int, stream: int, p: np.ndarray, t0: int, t1: int) -> np.ndarray:
    """Bernoulli spikes: ``uniform(seed, stream, t, i) < p[i]``."""
    t0, t1 = _range(t0, t1)
    p = np.asarray(p, np.float64)
    u = uniform(seed, stream, np.arange(t0, t1)[:, None], np.arange(p.size)[None, :])
    return u < p[None, :]


def poisson_probability(rate_hz: np.ndarray, dt: float) -> np.ndarray:
    """Per-step spike probability of a Poisson input of ``rate_hz`` Hz in steps of ``dt`` s: ``1 - exp(-rate dt)``."""
    return -np.expm1(-np.asarray(rate_hz, np.float64) * float(dt))


def latency_times(intensity: np.ndarray, tau: float, theta: float, offset: int) -> np.ndarray:
    """Spike step of every channel (float; inf for none): ``offset + ceil(tau ln(I / (I - theta)))``."""
    cur = np.asarray(intensity, np.float64)
    t = np.full(cur.size, np.inf)
    on = cur > theta
    t[on] = offset + np.ceil(tau * np.log(cur[on] / (cur[on] - theta)))
    return t


def latency_spikes(times: np.ndarray, t0: int, t1: int) -> np.ndarray:
    t0, t1 = _range(t0, t1)
    out = np.zeros((t1 - t0, times.size), bool)
    hit = (times >= t0) & (times < t1)
    out[times[hit].astype(np.int64) - t0, np.flatnonzero(hit)] = True
    return out


def delta_spikes(signal: np.ndarray, threshold: float, t0: int, t1: int) -> np.ndarray:
    """Delta-modulation spikes [t1 - t0, 2n]: on channels 0..n-1, off channels n..2n-1; silent past the signal."""
    t0, t1 = _range(t0, t1)
    sig = np.asarray(signal, np.float64)
    n = sig.shape[1]
    out = np.zeros((t1 - t0, 2 * n), bool)
    ref = sig[0].copy()
    for t in range(1, min(t1, sig.shape[0])):  # one vectorised update per step; the state starts at step 0
        x = sig[t]
        up, down = x - ref > threshold, ref - x > threshold
        if t >= t0:
            out[t - t0, :n], out[t - t0, n:] = up, down
        moved = up | down
        ref[moved] = x[moved]
    return out


def train_spikes(step: np.ndarray, channel: np.ndarray, size: int, t0: int, t1: int) -> np.ndarray:
    t0, t1 = _range(t0, t1)
    out = np.zeros((t1 - t0, size), bool)
    sel = (step >= t0) & (step < t1)
    out[step[sel] - t0, channel[sel]] = True
    return out


def group_spikes(group: InputGroup, t0: int, t1: int) -> np.ndarray:
    """Boolean spikes ``[t1 - t0, group.size]`` of one group for the absolute steps t0..t1-1."""
    a, p = group.arrays, group.params
    if group.kind == "rate":
        return rate_spikes(group.seed, group.stream, a["p"], t0, t1)
    if group.kind == "poisson":
        return rate_spikes(group.seed, group.stream, poisson_probability(a["rate_hz"], p["dt"]), t0, t1)
    if group.kind == "latency":
        return latency_spikes(latency_times(a["intensity"], p["tau"], p["theta"], int(p["offset"])), t0, t1)
    if group.kind == "delta":
        return delta_spikes(a["signal"], p["threshold"], t0, t1)
    if group.kind == "spikes":
        return train_spikes(a["step"], a["channel"], group.size, t0, t1)
    t0, t1 = _range(t0, t1)
    return np.zeros((t1 - t0, group.size), bool)


def program_array(program: InputProgram, t0: int, t1: int) -> np.ndarray:
    """uint8 ``[t1 - t0, n_axons]``: the input array of the absolute steps t0..t1-1 (what ``Emulator.run`` takes)."""
    t0, t1 = _range(t0, t1)
    out = np.zeros((t1 - t0, program.n_axons), np.uint8)
    for g in program.groups:
        if g.kind != "silent":
            out[:, g.first : g.first + g.size] = group_spikes(g, t0, t1)
    return out
