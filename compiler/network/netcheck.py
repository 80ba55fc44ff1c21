"""Checking a parsed network document against :mod:`compiler.network.schema`.

:class:`Checker` walks a document section by section, rejects unknown keys
(with a did-you-mean from :mod:`difflib`), wrong JSON types (``true`` is not a
number, ``"3"`` is not an integer), NaN, infinities where the key does not
allow ``inf`` and values outside the key's range, and resolves ``"@key"``
values from the side ``.npz`` (:class:`SideArrays`, every member's header
checked before it is read). Every error is a
:class:`~compiler.errors.NetworkFileError` whose message starts with the file
and the key path, e.g. ``net.json: projections[3].weight_bits: ...``.
"""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path

import numpy as np

from compiler.errors import NetworkFileError
from compiler.network.schema import TRACE_IMPULSE, TRACE_TAU, TRACES, Key, _num, keys
from loihi_emu.errors import FileAccessError
from loihi_emu.image.npzread import NpzFile
from loihi_emu.safefile import inside

MAX_NAME = 1000
"""Longest population name or node id string (characters)."""
MAX_DEPTH = 3
"""Deepest nesting of an inline list (a 2-D array is depth 2)."""


def did_you_mean(word: object, choices) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    if not isinstance(word, str):
        return ""
    best = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {best[0]!r}?" if best else ""


class SideArrays:
    """The side ``.npz`` of a network file, read member by member on demand.

    A side file outside the JSON file's folder (``..``, an absolute path, a
    symlink leading out) is refused unless ``allow_outside``.
    """

    def __init__(self, name: object, base: Path | None, label: str, allow_outside: bool = False) -> None:
        self.label, self.file, self._cache = label, None, {}
        if name is None:
            return
        if not isinstance(name, str) or not name:
            raise NetworkFileError(f"{label}: arrays: must be a file name (string), got {name!r}")
        folder = base if base is not None else Path(".")
        path = folder / name
        if not allow_outside and (Path(name).is_absolute() or not inside(path, folder)):
            raise NetworkFileError(f"{label}: arrays: side file {name!r} lies outside the network file's folder "
                                   f"{os.fspath(folder)!r} (pass allow_outside=True to read it anyway)")
        self.path = path
        try:
            self.file = NpzFile(path, NetworkFileError, "side file")
        except FileAccessError as exc:
            raise NetworkFileError(f"{label}: arrays: {exc}") from None

    def get(self, key: str, where: str) -> np.ndarray:
        if self.file is None:
            raise NetworkFileError(f"{self.label}: {where}: refers to array {key!r} but the file names no "
                                   f"side file ('arrays')")
        if key not in self.file:
            raise NetworkFileError(f"{self.label}: {where}: refers to array {key!r}, which the side file "
                                   f"{os.fspath(self.path)} lacks{did_you_mean(key, self.file.names)}")
        if key not in self._cache:
            self._cache[key] = self.file.read(key)
        return self._cache[key]

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _is_num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class Checker:
    """Checks sections of one document; ``fail`` builds the error for a key path."""

    def __init__(self, label: str, arrays: SideArrays) -> None:
        self.label, self.arrays = label, arrays

    def fail(self, where: str, msg: str) -> NetworkFileError:
        return NetworkFileError(f"{self.label}: {where}: {msg}" if where else f"{self.label}: {msg}")

    def section(self, obj: object, section: str, where: str, extra: dict[str, Key] | None = None,
                allowed: tuple[str, ...] | None = None) -> dict:
        """Check ``obj`` against a section; return key -> normalised value (absent keys are absent)."""
        spec = keys(section) | (extra or {})
        if allowed is not None:
            spec = {k: v for k, v in spec.items() if k in allowed}
        if not isinstance(obj, dict):
            raise self.fail(where, f"must be an object, got {_jtype(obj)}")
        for k in obj:
            if k not in spec:
                raise self.fail(where, f"unknown key {k!r}{did_you_mean(k, spec)}; known: {', '.join(spec)}")
        for k, key in keys(section).items():
            if key.required and k not in obj:
                raise self.fail(where, f"missing key {k!r}")
        return {k: self.value(spec[k], v, f"{where}.{k}" if where else k) for k, v in obj.items()}

    def value(self, key: Key, v: object, where: str):
        t = key.type
        if t == "values":
            return self.values(key, v, where)
        if t == "name":
            if not isinstance(v, str) or not v or len(v) > MAX_NAME:
                raise self.fail(where, f"must be a non-empty string of at most {MAX_NAME} characters, got {_show(v)}")
            return v
        if t == "id":
            if isinstance(v, bool) or not isinstance(v, (str, int)) or (isinstance(v, str) and len(v) > MAX_NAME):
                raise self.fail(where, f"must be a string or a whole number, got {_show(v)}")
            return v
        if t == "text":
            if not isinstance(v, str):
                raise self.fail(where, f"must be a string, got {_show(v)}")
            return v
        if t == "bool":
            if not isinstance(v, bool):
                raise self.fail(where, f"must be true or false, got {_show(v)}")
            return v
        if t == "enum":
            if not isinstance(v, str) or v not in key.choices:
                raise self.fail(where, f"{_show(v)} is not one of {', '.join(map(repr, key.choices))}"
                                       f"{did_you_mean(v, key.choices)}")
            return v
        if t in ("int", "size", "real"):
            return self.scalar(key, v, where)
        if t == "object":
            return self.section(v, key.section, where) if key.section in _PLAIN_SECTIONS else v
        if t == "list":
            if not isinstance(v, list):
                raise self.fail(where, f"must be a list, got {_jtype(v)}")
            return v
        if t == "traces":
            return self.traces(v, where)
        raise AssertionError(t)  # pragma: no cover - the schema names only the types above

    def scalar(self, key: Key, v: object, where: str):
        if key.inf and v == "inf":
            return math.inf
        if not _is_num(v):
            raise self.fail(where, f"must be a number{_OR_INF if key.inf else ''}, got {_show(v)}")
        if key.type in ("int", "size"):
            if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()):
                raise self.fail(where, f"must be a whole number, got {_show(v)}")
            v = int(v)
        else:
            try:
                v = float(v)
            except OverflowError:
                raise self.fail(where, "is too large for a float") from None
            if math.isnan(v) or (math.isinf(v) and not (key.inf and v > 0)):
                raise self.fail(where, f"must be finite, got {v}")
        self._range(key, np.asarray(v, dtype=object if isinstance(v, int) else float), where)
        return v

    def _range(self, key: Key, arr: np.ndarray, where: str) -> None:
        flat = arr.reshape(-1)
        if key.lo is not None:
            bad = flat <= key.lo if key.lo_open else flat < key.lo
            self._first(bad, flat, where, f"must be {'>' if key.lo_open else '>='} {_num(key.lo)}")
        if key.hi is not None:
            bad = (flat > key.hi) & ~((flat == np.inf) & key.inf)
            self._first(bad, flat, where, f"must be <= {_num(key.hi)}" + (" (or inf)" if key.inf else ""))

    def _first(self, bad, flat: np.ndarray, where: str, rule: str) -> None:
        bad = np.asarray(bad, bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            at = f"[{i}]" if flat.size > 1 else ""
            raise self.fail(where + at, f"= {flat[i]} {rule}")

    def values(self, key: Key, v: object, where: str):
        """A number, list or ``@key`` array: type, dimensions and range checked; a scalar stays a scalar."""
        if v is None and key.boolean:
            return None
        if isinstance(v, str) and v.startswith("@"):
            arr = self.arrays.get(v[1:], where)
            kinds = "biuf" if key.boolean else "iuf"
            if arr.dtype.kind not in kinds:
                raise self.fail(where, f"array {v!r} has dtype {arr.dtype}; expected numbers"
                                       + (" or booleans" if key.boolean else ""))
        elif isinstance(v, list):
            arr = self._inline(key, v, where)
        elif key.inf and v == "inf":
            arr = np.asarray(math.inf)
        elif _is_num(v) or (key.boolean and isinstance(v, bool)):
            try:
                arr = np.asarray(float(v) if not isinstance(v, bool) else v)
            except OverflowError:
                raise self.fail(where, "is too large for a float") from None
        else:
            raise self.fail(where, f"must be a number, a list or '@array'{_OR_INF if key.inf else ''}, "
                                   f"got {_show(v)}")
        if arr.ndim not in key.ndim:
            raise self.fail(where, f"has {arr.ndim} dimension(s) (shape {arr.shape}); expected "
                                   f"{' or '.join(map(str, key.ndim))}")
        if arr.dtype.kind == "b":
            return arr if arr.ndim else bool(arr)
        f = arr.astype(np.float64)
        nan = np.isnan(f)
        self._first(nan, f.reshape(-1), where, "is NaN")
        self._first(np.isinf(f) & ~((f > 0) & key.inf), f.reshape(-1), where,
                    "must be finite" if not key.inf else "must be finite or +inf")
        if key.integer:
            fin = np.isfinite(f)
            self._first(fin & (f != np.round(f)), f.reshape(-1), where, "must be a whole number")
        self._range(key, f, where)
        if arr.ndim == 0:
            return int(f) if key.integer and math.isfinite(float(f)) else float(f)
        return arr.astype(np.int64) if key.integer and arr.dtype.kind == "f" and np.isfinite(f).all() else arr

    def _inline(self, key: Key, v: list, where: str) -> np.ndarray:
        depth, level, shape = 0, [v], []
        while level and all(isinstance(x, list) for x in level):
            depth += 1
            if depth > MAX_DEPTH:
                raise self.fail(where, f"is nested deeper than {MAX_DEPTH} levels")
            n = len(level[0])
            if any(len(x) != n for x in level):
                raise self.fail(where, "is ragged: its rows differ in length")
            shape.append(n)
            level = [y for x in level for y in x]
        for x in level:
            ok = _is_num(x) or (key.boolean and isinstance(x, bool)) or (key.inf and x == "inf")
            if not ok:
                raise self.fail(where, f"holds {_show(x)}; expected numbers" + (" or booleans" if key.boolean else ""))
        if key.boolean and level and all(isinstance(x, bool) for x in level):
            return np.array(level, bool).reshape(shape)
        try:
            return np.array([math.inf if x == "inf" else float(x) for x in level], np.float64).reshape(shape)
        except OverflowError:
            raise self.fail(where, "holds a number too large for a float") from None

    def traces(self, v: object, where: str) -> dict:
        if not isinstance(v, dict):
            raise self.fail(where, f"must be an object mapping a trace name to [impulse, tau], got {_jtype(v)}")
        out = {}
        for name, pair in v.items():
            at = f"{where}.{name}"
            if name not in TRACES:
                raise self.fail(at, f"unknown trace {name!r}{did_you_mean(name, TRACES)}; traces are "
                                    f"{', '.join(TRACES)}")
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(at, f"must be [impulse, tau], got {_show(pair)}")
            for what, x, (lo, hi) in (("impulse", pair[0], TRACE_IMPULSE), ("tau", pair[1], TRACE_TAU)):
                if isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi:
                    raise self.fail(at, f"{what} {_show(x)} must be a whole number in {lo}..{hi}")
            out[name] = (pair[0], pair[1])
        return out


_OR_INF = ' or "inf"'
_PLAIN_SECTIONS = ("sparse", "graph_attrs")
"""Object sections checked on the spot; others (input, graph) are checked by their users."""


def _jtype(v: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number" if _is_num(v) else type(v).__name__)


def _show(v: object) -> str:
    if isinstance(v, (dict, list)):
        return _jtype(v)
    text = repr(v) if not isinstance(v, bool) else str(v).lower()
    if v is None:
        text = "null"
    return text if len(text) <= 60 else text[:57] + "..."
