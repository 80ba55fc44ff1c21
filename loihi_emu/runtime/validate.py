"""Argument checks of :class:`~loihi_emu.runtime.emulator.Emulator`: types, ranges and sizes before acting.

Each function raises a typed error (:class:`~loihi_emu.errors.UsageError`
for an argument of the wrong kind, :class:`InputError` for input spikes,
:class:`SizeError` for a run whose recording would not fit in memory) and
returns the argument normalised.
"""

from __future__ import annotations

import numbers

import numpy as np

from loihi_emu.errors import InputError, UsageError
from loihi_emu.image.core import Image
from loihi_emu.sizes import check_alloc

SCHEDULE_BYTES_PER_STEP = 64
"""What a run keeps per step besides the probes (the input schedule), bytes."""


def whole(name: str, value, lo: int | None = None, hi: int | None = None, error=UsageError) -> int:
    """``value`` as an int: a Python or numpy integer (not a bool) within lo..hi."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise error(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        rng = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
        raise error(f"{name} = {v} is outside {rng}")
    return v


def check_init(image, seed, probes, strict, backend, n_threads, max_threads: int) -> list:
    """Check the constructor's arguments; return the probes as a list."""
    if not isinstance(image, Image):
        raise UsageError(f"Emulator needs a board image (loihi_emu.Image), got {type(image).__name__}; "
                         f"read a file with loihi_emu.load(path)")
    whole("seed", seed, -(2**63), 2**64 - 1)
    if not isinstance(strict, (bool, np.bool_)):
        raise UsageError(f"strict must be True or False, got {strict!r}")
    if not isinstance(backend, str):
        raise UsageError(f"backend must be a name, got {backend!r}")
    if n_threads is not None:
        whole("n_threads", n_threads, 1, max_threads)
    if isinstance(probes, str):
        return [probes]
    try:
        return list(probes)
    except TypeError:
        raise UsageError(f"probes must be a list of quantity names or Probes, got {type(probes).__name__}") from None


def check_run(steps, inputs, progress, bytes_per_step: int):
    """Check :meth:`Emulator.run`'s arguments and the memory its recording needs; return (steps, inputs)."""
    steps = whole("steps", steps, 0, error=InputError)
    if not isinstance(progress, (bool, np.bool_)):
        raise UsageError(f"progress must be True or False, got {progress!r}")
    check_alloc(f"run of {steps} steps (probes and input schedule)", steps,
                bytes_per_step + SCHEDULE_BYTES_PER_STEP)
    if inputs is not None and not isinstance(inputs, np.ndarray):
        try:
            inputs = np.asarray(inputs)
        except (ValueError, TypeError) as exc:
            raise InputError(f"inputs are not an array ({exc})") from None
    if inputs is not None and inputs.dtype.kind not in "biuf":
        raise InputError(f"inputs must be an array of numbers, got dtype {inputs.dtype}")
    return steps, inputs


def check_step_inputs(inputs) -> np.ndarray:
    """The axons of :meth:`Emulator.step` as int64 (whole numbers only; bounds are the caller's)."""
    if inputs is None:
        return np.zeros(0, np.int64)
    try:
        arr = np.asarray(list(inputs) if not isinstance(inputs, np.ndarray) else inputs)
    except (TypeError, ValueError) as exc:
        raise InputError(f"step inputs must be a list of input axon numbers ({exc})") from None
    if arr.size and (arr.dtype.kind not in "iu" or arr.ndim != 1):
        raise InputError(f"step inputs must be a 1-D list of whole axon numbers, got {arr.dtype} {arr.shape}")
    return arr.astype(np.int64).reshape(-1)
