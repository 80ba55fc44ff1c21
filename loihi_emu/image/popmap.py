"""The population map of a board image: names, index ranges and scales of the network it came from.

Numbering (the emulator's): global compartment ``g`` for compartment
populations, external input axon ``a`` for input populations, *source*
``a`` (an input) or ``n_inputs + g`` (a compartment) for presynaptic traces,
and the stable plastic-synapse order of ``Emulator.plastic_synapses`` for
``w`` probes.

Scales are register units per model unit, per population: ``v``, ``u`` and
``bias`` are all in v units (``v_model = v_register / scale``), and the
weights of every projection *into* a population are in its v units too (an
emulator ``w`` probe, ``floor(wmant * 2^wexp) * 2^6``, divided by the
target population's ``weight`` scale is the model weight).

A *selector* names a population and optionally a slice of it: ``"exc"``,
``"exc[0:10]"``, ``"exc[3]"``, ``"exc[::2]"``; for plastic synapses also a
projection ``"in->exc"`` (optionally sliced: the k-th synapses of that
projection in the stable order). :meth:`PopulationMap.select` turns one into
global indices along a probe's axis.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from loihi_emu.errors import ImageFileError, ProbeError

FORMAT = "loihi-popmap/1"
SCALE_KEYS = ("v", "u", "bias", "weight")
_SELECTOR = re.compile(r"^\s*(?P<name>[^\[\]]+?)\s*(\[(?P<slice>[^\]]*)\])?\s*$")


@dataclass(frozen=True)
class PopulationEntry:
    """One population: ``kind`` 'compartments' (global compartments ``start .. start + size - 1``) or
    'input' (external input axons ``start ..``); ``scales``: register units per model unit (compartments only)."""

    name: str
    kind: str
    start: int
    size: int
    scales: Mapping[str, float] = field(default_factory=dict)

    @property
    def stop(self) -> int:
        return self.start + self.size

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "start": self.start, "size": self.size,
                "scales": dict(self.scales)}


def parse_selector(text: str) -> tuple[str, slice | int | None]:
    """``"exc[0:10]"`` -> ("exc", slice(0, 10)); ``"exc"`` -> ("exc", None); ``"exc[3]"`` -> ("exc", 3)."""
    m = _SELECTOR.match(text) if isinstance(text, str) else None
    if not m:
        raise ProbeError(f"selector {text!r}: expected 'population' or 'population[start:stop]'")
    name, sl = m.group("name"), m.group("slice")
    if sl is None:
        return name, None
    try:
        parts = [int(p) if p.strip() else None for p in sl.split(":")]
    except ValueError:
        raise ProbeError(f"selector {text!r}: the slice must hold integers, as in {name}[0:10]") from None
    if len(parts) == 1 and parts[0] is not None:
        return name, parts[0]
    if not 2 <= len(parts) <= 3:
        raise ProbeError(f"selector {text!r}: expected [index], [start:stop] or [start:stop:step]")
    return name, slice(*parts)


@dataclass(frozen=True, eq=False)
class PopulationMap:
    """The populations of an image (in numbering order) and the plastic synapses' (source, target).

    plastic_source / plastic_target: int64 [P] in the emulator's stable
    plastic-synapse order: source (input ``a``, or ``n_inputs + g``; -1 for a
    row no route reaches) and target global compartment. compartment_scale:
    float64 [n_compartments] register units per model unit of every
    compartment (for v, u, bias and its incoming weights), when a population's
    compartments do not share one scale (dense packing); None otherwise.
    """

    populations: tuple[PopulationEntry, ...]
    n_compartments: int
    n_inputs: int
    plastic_source: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    plastic_target: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    compartment_scale: np.ndarray | None = None

    def __post_init__(self) -> None:
        pops = tuple(self.populations)
        names = set()
        for kind, total in (("compartments", self.n_compartments), ("input", self.n_inputs)):
            end = 0
            for p in sorted((p for p in pops if p.kind == kind), key=lambda p: p.start):
                if p.start != end or p.size < 1:
                    raise ImageFileError(f"population map: {p.name!r} starts at {p.start}, expected {end} "
                                         f"(ranges must tile 0..{total - 1} in order)")
                end = p.stop
            if end != total:
                raise ImageFileError(f"population map: {kind} populations cover {end} of {total} indices")
        for p in pops:
            if p.kind not in ("compartments", "input"):
                raise ImageFileError(f"population map: {p.name!r} has kind {p.kind!r}")
            if p.name in names:
                raise ImageFileError(f"population map: two populations are named {p.name!r}")
            names.add(p.name)
            if p.kind == "compartments" and (set(p.scales) != set(SCALE_KEYS) or not all(
                    np.isfinite(v) and v > 0 for v in p.scales.values())):
                raise ImageFileError(f"population map: {p.name!r} needs positive scales {list(SCALE_KEYS)}")
        src = np.ascontiguousarray(np.asarray(self.plastic_source, np.int64))
        tgt = np.ascontiguousarray(np.asarray(self.plastic_target, np.int64))
        if src.ndim != 1 or src.shape != tgt.shape or (tgt.size and (tgt.min() < 0 or tgt.max() >= self.n_compartments)):
            raise ImageFileError("population map: plastic_source/plastic_target must be equal-length index arrays")
        if self.compartment_scale is not None:
            cs = np.ascontiguousarray(np.asarray(self.compartment_scale, np.float64))
            if cs.shape != (self.n_compartments,) or not (np.isfinite(cs).all() and (cs > 0).all()):
                raise ImageFileError(f"population map: compartment_scale must be {self.n_compartments} positive "
                                     "finite scales")
            object.__setattr__(self, "compartment_scale", cs)
        object.__setattr__(self, "populations", pops)
        object.__setattr__(self, "plastic_source", src)
        object.__setattr__(self, "plastic_target", tgt)
        comp = [p for p in pops if p.kind == "compartments"]
        object.__setattr__(self, "_starts", np.array([p.start for p in comp], np.int64))
        object.__setattr__(self, "_comp", comp)

    # ------------------------------------------------------------------ lookups
    @property
    def names(self) -> list[str]:
        return [p.name for p in self.populations]

    @property
    def compartment_populations(self) -> list[PopulationEntry]:
        return list(self._comp)  # type: ignore[attr-defined]

    def population(self, name: str) -> PopulationEntry:
        for p in self.populations:
            if p.name == name:
                return p
        raise ProbeError(f"unknown population {name!r}; known: {self.names}")

    def owner(self, g: np.ndarray) -> np.ndarray:
        """Position in :attr:`compartment_populations` of each global compartment in ``g``."""
        return np.searchsorted(self._starts, np.asarray(g, np.int64), side="right") - 1  # type: ignore[attr-defined]

    def scale(self, quantity: str, index: np.ndarray) -> np.ndarray:
        """Register units per model unit of each probed index: 'v'/'u' per compartment, 'w' per plastic synapse."""
        index = np.asarray(index, np.int64)
        if quantity == "w":
            index = self.plastic_target[index]
            key = "weight"
        else:
            key = quantity
        if self.compartment_scale is not None:
            return self.compartment_scale[index]
        table = np.array([p.scales[key] for p in self._comp], np.float64)  # type: ignore[attr-defined]
        return table[self.owner(index)] if index.size else np.zeros(0)

    def select(self, selector: str, axis: str = "compartment") -> np.ndarray:
        """Global indices (int64) that ``selector`` names along ``axis``: 'compartment', 'source' or 'synapse'."""
        name, sl = parse_selector(selector)
        if axis == "synapse":
            if "->" in name:
                pre, post = (s.strip() for s in name.split("->", 1))
                a, b = self.population(pre), self.population(post)
                off = 0 if a.kind == "input" else self.n_inputs
                base = np.flatnonzero((self.plastic_source >= a.start + off) & (self.plastic_source < a.stop + off)
                                      & (self.plastic_target >= b.start) & (self.plastic_target < b.stop))
            else:
                b = self.population(name)
                if b.kind == "input":
                    raise ProbeError(f"selector {selector!r}: plastic synapses end on compartments, not on inputs")
                base = np.flatnonzero((self.plastic_target >= b.start) & (self.plastic_target < b.stop))
        else:
            p = self.population(name)
            if p.kind == "input" and axis != "source":
                raise ProbeError(f"selector {selector!r}: {name!r} is an input population; it has no compartments "
                                 "(probe its x1/x2 traces, or the compartments it drives)")
            off = self.n_inputs if (axis == "source" and p.kind == "compartments") else 0
            base = np.arange(p.start + off, p.stop + off, dtype=np.int64)
        if sl is None:
            return base
        if isinstance(sl, int):
            if not -base.size <= sl < base.size:
                raise ProbeError(f"selector {selector!r}: index {sl} is outside 0..{base.size - 1}")
            return base[[sl]]
        out = base[sl]
        if out.size == 0:
            raise ProbeError(f"selector {selector!r} selects nothing ({name!r} has {base.size} entries)")
        return out

    # ------------------------------------------------------------------ storage
    def to_arrays(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able dict, arrays): what a file layout stores."""
        doc = {"format": FORMAT, "n_compartments": self.n_compartments, "n_inputs": self.n_inputs,
               "populations": [p.to_dict() for p in self.populations]}
        arrays = {"plastic_source": self.plastic_source, "plastic_target": self.plastic_target}
        if self.compartment_scale is not None:
            arrays["compartment_scale"] = self.compartment_scale
        return doc, arrays

    @classmethod
    def from_arrays(cls, doc: dict, arrays: Mapping[str, np.ndarray]) -> PopulationMap:
        """Inverse of :meth:`to_arrays`; raises :class:`ImageFileError` naming what is malformed."""
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("populations"), list):
            raise ImageFileError(f"population map: expected a {FORMAT!r} object with a 'populations' list")
        pops = []
        for i, p in enumerate(doc["populations"]):
            keys = {"name", "kind", "start", "size", "scales"}
            ok = isinstance(p, dict) and set(p) == keys and isinstance(p["name"], str) and isinstance(p["scales"], dict)
            ok = ok and all(isinstance(p[k], int) and not isinstance(p[k], bool) for k in ("start", "size"))
            ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p["scales"].values())
            if not ok:
                raise ImageFileError(f"population map: populations[{i}] must be an object with keys {sorted(keys)}")
            pops.append(PopulationEntry(p["name"], p["kind"], p["start"], p["size"],
                                        {k: float(v) for k, v in p["scales"].items()}))
        for k in ("plastic_source", "plastic_target"):
            if k not in arrays or np.asarray(arrays[k]).dtype.kind not in "iu":
                raise ImageFileError(f"population map: array {k!r} is missing or not integer")
        n, n_in = doc.get("n_compartments"), doc.get("n_inputs")
        if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in (n, n_in)):
            raise ImageFileError("population map: n_compartments and n_inputs must be integers >= 0")
        cs = arrays.get("compartment_scale")
        if cs is not None and np.asarray(cs).dtype.kind != "f":
            raise ImageFileError("population map: array 'compartment_scale' is not floating point")
        return cls(tuple(pops), n, n_in, arrays["plastic_source"], arrays["plastic_target"], cs)

    def equals(self, other: PopulationMap | None) -> bool:
        if other is None:
            return False
        a, b = self.to_arrays(), other.to_arrays()
        return a[0] == b[0] and set(a[1]) == set(b[1]) and all(np.array_equal(a[1][k], b[1][k]) for k in a[1])
