"""The input program of a board image: what every external input axon receives.

An :class:`InputProgram` is a list of :class:`InputGroup` s, one per input
population, each owning the contiguous external input axons ``first ..
first + size - 1``. A group is either an explicit spike train or a seeded
generator that the emulator evaluates itself (:mod:`loihi_emu.image.input_eval`),
bit-identical to the compiler's ``Network.input_array``:

============  ===========================================  ===============================
kind          arrays (per channel unless noted)            params
============  ===========================================  ===============================
``spikes``    ``step``, ``channel`` int64 [k]: the spikes  ``length`` (steps of the train)
``rate``      ``p`` float64: spike probability per step    -
``poisson``   ``rate_hz`` float64: rate in Hz              ``dt`` (seconds per step)
``latency``   ``intensity`` float64                        ``tau`` (steps), ``theta``, ``offset`` (steps)
``delta``     ``signal`` float64 [T, size / 2]             ``threshold``
``silent``    -                                            -
============  ===========================================  ===============================

``seed`` and ``stream`` (the group's stable id, :func:`loihi_emu.rng.stable_id`
of the population name) key the random generators. ``to_arrays()`` /
``from_arrays()`` turn a program into a JSON-able dict plus named arrays, so
any file layout can store it; a malformed one raises :class:`ImageFileError`
naming the group and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from loihi_emu.errors import ImageFileError

FORMAT = "loihi-inputs/1"

# kind -> (array name -> (dtype, ndim)), required scalar params
KINDS: dict[str, tuple[dict[str, tuple[str, int]], tuple[str, ...]]] = {
    "spikes": ({"step": ("int64", 1), "channel": ("int64", 1)}, ("length",)),
    "rate": ({"p": ("float64", 1)}, ()),
    "poisson": ({"rate_hz": ("float64", 1)}, ("dt",)),
    "latency": ({"intensity": ("float64", 1)}, ("tau", "theta", "offset")),
    "delta": ({"signal": ("float64", 2)}, ("threshold",)),
    "silent": ({}, ()),
}
RANDOM_KINDS = ("rate", "poisson")


def _int(where: str, name: str, value, lo: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise ImageFileError(f"{where}: {name} = {value!r} must be an integer >= {lo}")
    return int(value)


def _number(where: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise ImageFileError(f"{where}: {name} = {value!r} must be a finite number")
    return float(value)


@dataclass(frozen=True, eq=False)
class InputGroup:
    """The input of axons ``first .. first + size - 1`` (see the module table for kinds, arrays, params)."""

    name: str
    first: int
    size: int
    kind: str
    seed: int = 0
    stream: int = 0
    params: Mapping[str, float] = field(default_factory=dict)
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"input group {self.name!r}"

    def __post_init__(self) -> None:
        w = self.label
        if not isinstance(self.name, str) or not self.name:
            raise ImageFileError(f"input group name must be a non-empty string, got {self.name!r}")
        if self.kind not in KINDS:
            raise ImageFileError(f"{w}: kind {self.kind!r} is not one of {sorted(KINDS)}")
        _int(w, "first", self.first)
        _int(w, "size", self.size, 1)
        _int(w, "seed", self.seed)
        _int(w, "stream", self.stream)
        spec, needed = KINDS[self.kind]
        missing = [k for k in needed if k not in self.params]
        extra = sorted(set(self.params) - set(needed))
        if missing or extra:
            raise ImageFileError(f"{w} ({self.kind}): params need {list(needed)}, missing {missing}, unknown {extra}")
        params = {k: _number(w, k, self.params[k]) for k in needed}
        if set(self.arrays) != set(spec):
            raise ImageFileError(f"{w} ({self.kind}): arrays must be {sorted(spec)}, got {sorted(self.arrays)}")
        arrays = {}
        for k, (dt, ndim) in spec.items():
            arr = np.asarray(self.arrays[k])
            if arr.ndim != ndim or (arr.size and arr.dtype.kind not in ("iu" if dt == "int64" else "iuf")):
                raise ImageFileError(f"{w}: array {k!r} has dtype {arr.dtype} and shape {arr.shape}, expected {ndim}-D {dt}")
            arr = np.ascontiguousarray(arr.astype(dt))
            if dt == "float64" and not np.isfinite(arr).all():
                raise ImageFileError(f"{w}: array {k!r} holds a value that is not finite")
            arrays[k] = arr
        self._check(params, arrays)
        object.__setattr__(self, "first", int(self.first))
        object.__setattr__(self, "size", int(self.size))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "stream", int(self.stream))
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "arrays", arrays)

    def _check(self, params: dict, arrays: dict) -> None:
        w, n, kind = self.label, self.size, self.kind
        if kind == "spikes":
            length = params["length"]
            if length != int(length) or length < 0:
                raise ImageFileError(f"{w}: length = {length} must be a whole number of steps >= 0")
            st, ch = arrays["step"], arrays["channel"]
            if st.size != ch.size:
                raise ImageFileError(f"{w}: step has {st.size} entries, channel has {ch.size}")
            for name, arr, hi in (("step", st, int(length)), ("channel", ch, n)):
                bad = (arr < 0) | (arr >= hi)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise ImageFileError(f"{w}: {name}[{i}] = {int(arr[i])} is outside 0..{hi - 1}")
            return
        if kind == "delta":
            sig = arrays["signal"]
            if sig.shape[0] == 0 or 2 * sig.shape[1] != n:
                raise ImageFileError(f"{w}: signal has shape {sig.shape}, expected [steps >= 1, {n // 2}] (size = 2 x channels)")
            if params["threshold"] < 0:
                raise ImageFileError(f"{w}: threshold = {params['threshold']} must be >= 0")
            return
        for k, arr in arrays.items():
            if arr.shape != (n,):
                raise ImageFileError(f"{w}: {k} has shape {arr.shape}, expected ({n},)")
        if kind == "rate" and ((arrays["p"] < 0) | (arrays["p"] > 1)).any():
            i = int(np.flatnonzero((arrays["p"] < 0) | (arrays["p"] > 1))[0])
            raise ImageFileError(f"{w}: p[{i}] = {arrays['p'][i]} is outside [0, 1] (a probability per step)")
        if kind == "poisson":
            if (arrays["rate_hz"] < 0).any():
                raise ImageFileError(f"{w}: rate_hz holds a negative rate")
            if params["dt"] <= 0:
                raise ImageFileError(f"{w}: dt = {params['dt']} must be > 0 seconds per step")
        if kind == "latency" and (params["tau"] <= 0 or params["theta"] < 0 or params["offset"] < 0
                                  or params["offset"] != int(params["offset"])):
            raise ImageFileError(f"{w}: tau must be > 0, theta >= 0 and offset a whole number of steps >= 0")

    @property
    def length(self) -> int | None:
        """Steps the group has input for (spike trains, delta signals), None when unbounded or silent."""
        if self.kind == "spikes":
            return int(self.params["length"])
        if self.kind == "delta":
            return int(self.arrays["signal"].shape[0])
        return None

    def to_dict(self) -> dict:
        return {"name": self.name, "first": self.first, "size": self.size, "kind": self.kind, "seed": self.seed,
                "stream": self.stream, "params": dict(self.params)}


@dataclass(frozen=True, eq=False)
class InputProgram:
    """The input groups of an image, in axon order; they must not overlap and must lie within ``n_axons``."""

    n_axons: int
    groups: tuple[InputGroup, ...] = ()

    def __post_init__(self) -> None:
        _int("input program", "n_axons", self.n_axons)
        groups = tuple(sorted(self.groups, key=lambda g: g.first))
        end, names = 0, set()
        for g in groups:
            if g.name in names:
                raise ImageFileError(f"input program: two groups are named {g.name!r}")
            names.add(g.name)
            if g.first < end or g.first + g.size > self.n_axons:
                raise ImageFileError(f"{g.label}: axons {g.first}..{g.first + g.size - 1} overlap another group "
                                     f"or lie beyond the image's {self.n_axons} input axons")
            end = g.first + g.size
        object.__setattr__(self, "groups", groups)

    @property
    def length(self) -> int | None:
        """Steps of input when every non-silent group is finite (the longest of them), else None."""
        active = [g for g in self.groups if g.kind != "silent"]
        lengths = [g.length for g in active]
        if not active or any(n is None for n in lengths):
            return None
        return max(lengths)

    @property
    def active(self) -> bool:
        """True when some group can make a spike."""
        return any(g.kind != "silent" for g in self.groups)

    def group(self, name: str) -> InputGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(f"no input group {name!r}; known: {[g.name for g in self.groups]}")

    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able dict, arrays named ``"<group index>.<array>"``): what a file layout stores."""
        doc = {"format": FORMAT, "n_axons": self.n_axons, "groups": [g.to_dict() for g in self.groups]}
        arrays = {f"{i}.{k}": a for i, g in enumerate(self.groups) for k, a in g.arrays.items()}
        return doc, arrays

    @classmethod
    def from_arrays(cls, doc: dict, arrays: Mapping[str, np.ndarray]) -> InputProgram:
        """Inverse of :meth:`to_arrays`; raises :class:`ImageFileError` naming what is malformed."""
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("groups"), list):
            raise ImageFileError(f"input program: expected a {FORMAT!r} object with a 'groups' list")
        groups = []
        for i, g in enumerate(doc["groups"]):
            keys = {"name", "first", "size", "kind", "seed", "stream", "params"}
            if not isinstance(g, dict) or set(g) != keys or not isinstance(g["params"], dict):
                raise ImageFileError(f"input program: groups[{i}] must be an object with keys {sorted(keys)}")
            spec = KINDS.get(g["kind"], ({}, ()))[0]
            missing = [k for k in spec if f"{i}.{k}" not in arrays]
            if missing:
                raise ImageFileError(f"input program: groups[{i}] ({g['name']!r}) lacks array(s) {missing}")
            groups.append(InputGroup(g["name"], g["first"], g["size"], g["kind"], g["seed"], g["stream"], g["params"],
                                     {k: arrays[f"{i}.{k}"] for k in spec}))
        return cls(doc.get("n_axons"), tuple(groups))

    def equals(self, other: InputProgram | None) -> bool:
        if other is None:
            return False
        a, b = self.to_arrays(), other.to_arrays()
        return a[0] == b[0] and a[1].keys() == b[1].keys() and all(
            np.array_equal(a[1][k], b[1][k]) for k in a[1])
