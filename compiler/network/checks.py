"""Value checks shared by the network nouns: per-compartment arrays, names, sizes, whole numbers, reals.

Each raises :class:`~compiler.errors.ParameterError` (or :class:`ShapeError`)
naming the owner (``population 'exc'``, ``projection 'a' -> 'b'``) and the
bad value; sizes are also checked against the allocation limit
(:mod:`loihi_emu.sizes`) before anything is allocated.
"""

from __future__ import annotations

import numpy as np

from compiler.errors import ParameterError, ShapeError
from loihi_emu.errors import SizeError
from loihi_emu.sizes import check_alloc


def per_compartment(owner: str, name: str, value, size: int, *, integer: bool = False) -> np.ndarray:
    """Broadcast a scalar or check a [size] array; reject NaN (inf is left to the caller)."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{owner}: {name} is not an array of numbers ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise ParameterError(f"{owner}: {name} must be numeric, got {arr.dtype}"
                             + (" (true/false is not a number)" if arr.dtype.kind == "b" else ""))
    if arr.ndim == 0:
        arr = np.full(size, arr)
    if arr.shape != (size,):
        raise ShapeError(f"{owner}: {name} has shape {arr.shape}, expected ({size},) or a scalar")
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        raise ParameterError(f"{owner}: {name}[{int(np.flatnonzero(np.isnan(arr))[0])}] is NaN")
    if integer:
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ParameterError(f"{owner}: {name}[{i}] = {arr[i]} must be a whole number")
        return arr.astype(np.int64)
    return arr


def _first_bad(owner: str, name: str, arr: np.ndarray, bad: np.ndarray, rule: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(f"{owner}: {name}[{i}] = {arr[i]} {rule}")


def _check_name(kind: str, name) -> str:
    if not isinstance(name, str) or not name:
        raise ParameterError(f"{kind} name must be a non-empty string, got {name!r}")
    return name


MAX_SIZE = 2**31 - 1
"""Largest population (compartment indices are int32)."""
BYTES_PER_COMPARTMENT = 128
"""What the compiler keeps per compartment (parameter arrays and their quantized registers), bytes."""


def _check_size(owner: str, size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= MAX_SIZE:
        raise ParameterError(f"{owner}: size must be a whole number in 1..{MAX_SIZE}, got {size!r}")
    check_alloc(f"{owner}: {int(size)} compartments", int(size), BYTES_PER_COMPARTMENT, _SizeError)
    return int(size)


class _SizeError(SizeError, ParameterError):
    """A population too large for the allocation limit (both a SizeError and a ParameterError)."""


def whole_or_none(owner: str, name: str, value, lo: int, hi: int, unit: str = "") -> int | None:
    """None, or a whole number (int, numpy integer or integral float; never a bool) in lo..hi."""
    if value is None:
        return None
    ok = isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and np.isfinite(value)
                                                 and float(value).is_integer())
    if isinstance(value, (bool, np.bool_)) or not ok or not lo <= value <= hi:
        raise ParameterError(f"{owner}: {name} = {value!r} must be a whole number in {lo}..{hi}{unit}")
    return int(value)


def real(owner: str, name: str, value) -> float:
    """A finite or infinite real number (int or float, never a bool or a string); NaN is refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{owner}: {name} = {value!r} must be a number")
    try:
        v = float(value)
    except OverflowError:
        raise ParameterError(f"{owner}: {name} is too large") from None
    if np.isnan(v):
        raise ParameterError(f"{owner}: {name} is NaN")
    return v
