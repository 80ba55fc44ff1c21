"""The board image: the contract between the compiler and the emulator.

A board image is a set of cores, each addressed by ``(chip, core)``, plus the
routes of the external input axons. Each core holds four tables, laid out as
the chip lays them out:

* :class:`CompartmentTable` - one row per compartment: the CUBA registers.
* :class:`SynapseTable` - one row per *input axon*: the synapses that a spike
  arriving on that axon touches (target compartment, weight mantissa, synapse
  format, delay), stored as a CSR over axons.
* :class:`SynapseFormatTable` - the synapse formats the synapses refer to:
  weight bits, weight exponent, sign mode.
* :class:`RouteTable` - output axons: for each compartment, the list of
  ``(chip, core, axon)`` its spikes are sent to.
* :class:`LearningProfileTable` - learning profiles (rule microcode, trace
  settings, learning epoch, rounding mode); a plastic synapse format names
  one, a non-plastic format says -1 (docs/learning-engine.md).

The image-level ``inputs`` :class:`RouteTable` does the same for external input
axons. Every compartment also carries its *global index*; probes and vectors
use that numbering, so how compartments are split over cores never shows.

Tables validate dtype, shape and register ranges on construction and raise
:class:`~loihi_emu.errors.ImageError` naming the core, table, field, index,
value and limit. Per-core *limits* (how many compartments, axons, synapse
memory bits, profiles) are checked by :func:`loihi_emu.image.limits.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.inputs import InputProgram
from loihi_emu.image.pages import PageBudget
from loihi_emu.image.popmap import PopulationMap
from loihi_emu.image.tables import (  # noqa: F401  (re-exported: the image's public vocabulary)
    COMPARTMENT_TRACES,
    CORE_TABLES,
    NOISE_FIELDS,
    NOISE_OFF,
    NOISE_TARGETS,
    NOISE_U,
    NOISE_V,
    OPTIONAL_TABLES,
    REGISTERS,
    REWARD_FIELDS,
    ROUND_DETERMINISTIC,
    ROUND_STOCHASTIC,
    SIGN_EXCITATORY,
    SIGN_INHIBITORY,
    SIGN_MIXED,
    SIGN_MODES,
    SOURCE_TRACES,
    TABLE_CLASSES,
    TRACES,
    CompartmentTable,
    LearningProfileTable,
    RouteTable,
    SynapseFormatTable,
    SynapseTable,
    Table,
    check_range,
    table_fields,
)


@dataclass(frozen=True, eq=False)
class Core:
    """One neuro core at address ``(chip, index)`` with its tables (``learning`` defaults to empty)."""

    chip: int
    index: int
    compartments: CompartmentTable
    formats: SynapseFormatTable
    synapses: SynapseTable
    routes: RouteTable
    learning: LearningProfileTable | None = None

    @property
    def address(self) -> tuple[int, int]:
        return (self.chip, self.index)

    @property
    def label(self) -> str:
        return f"chip {self.chip} core {self.index}: "

    def __post_init__(self) -> None:
        if self.learning is None:
            object.__setattr__(self, "learning", LearningProfileTable.empty(where=self.label, spec=self.compartments.spec))
        w, c, syn, fmts = self.label, self.compartments, self.synapses, self.formats
        check_range(w, "SynapseFormatTable", "learning_profile", fmts.learning_profile, -1, self.learning.n - 1,
                    " (learning profile row, -1 = not plastic)")
        if self.chip < 0 or self.index < 0:
            raise ImageError(f"{w}core address must be non-negative")
        if self.routes.n_sources != c.n:
            raise ImageError(f"{w}RouteTable has {self.routes.n_sources} rows, expected one per compartment ({c.n})")
        check_range(w, "SynapseTable", "target", syn.target, 0, c.n - 1, " (local compartment)")
        check_range(w, "SynapseTable", "fmt", syn.fmt, 0, fmts.n - 1, " (synapse format)")
        if syn.n and fmts.n:
            lo, hi = fmts.mantissa_range()
            f = syn.fmt.astype(np.intp)
            bad = (syn.wmant < lo[f]) | (syn.wmant > hi[f])
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ImageError(
                    f"{w}SynapseTable.wmant[{i}] = {int(syn.wmant[i])} is outside "
                    f"{int(lo[f[i]])}..{int(hi[f[i]])} for synapse format {int(f[i])} "
                    f"({SIGN_MODES[int(fmts.sign_mode[f[i]])]})"
                )
            plastic = fmts.plastic[f] & (fmts.sign_mode[f] == SIGN_MIXED) & (syn.wmant > self.compartments.spec.plastic_mixed_wmant_max)
            if plastic.any():
                i = int(np.flatnonzero(plastic)[0])
                raise ImageError(
                    f"{w}SynapseTable.wmant[{i}] = {int(syn.wmant[i])} is outside "
                    f"{syn.spec.weight_mant_min}..{syn.spec.plastic_mixed_wmant_max} for plastic mixed format {int(f[i])}"
                )


@dataclass(frozen=True, eq=False)
class Image:
    """A board image: cores by address, and the routes of external input axons.

    The global compartment numbering is given by every core's
    ``compartments.global_index``; together they must be 0..n-1, each once.
    input_program: what the external input axons receive when a run is given
    no inputs (:mod:`loihi_emu.image.inputs`); populations: the names, ranges
    and scales of the network the image came from (:mod:`loihi_emu.image.popmap`).
    Both optional (images of format ``loihi-image/1`` have neither).
    """

    cores: tuple[Core, ...]
    inputs: RouteTable
    spec: HardwareSpec = LOIHI1
    input_program: InputProgram | None = None
    populations: PopulationMap | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cores", tuple(self.cores))
        by_addr: dict[tuple[int, int], Core] = {}
        for core in self.cores:
            if core.address in by_addr:
                raise ImageError(f"{core.label}two cores share this address")
            by_addr[core.address] = core
        object.__setattr__(self, "_by_address", by_addr)
        gidx = np.concatenate([c.compartments.global_index for c in self.cores]) if self.cores else np.zeros(0, np.int64)
        seen = np.bincount(gidx, minlength=gidx.size) if gidx.size else np.zeros(0, np.int64)
        if seen.size != gidx.size or (seen != 1).any():
            bad = int(np.flatnonzero(seen != 1)[0]) if seen.size == gidx.size else int(gidx.max())
            raise ImageError(
                f"global compartment indices must be 0..{gidx.size - 1}, each exactly once; "
                f"index {bad} is {'repeated or missing' if seen.size == gidx.size else 'out of range'}"
            )
        keys = np.array([_address_key(c.chip, c.index) for c in self.cores], np.int64)
        order = np.argsort(keys)
        object.__setattr__(self, "_addr_keys", keys[order])
        object.__setattr__(self, "_addr_pos", order.astype(np.int64))
        object.__setattr__(self, "_address_lut", _dense_lut(self.cores))
        object.__setattr__(self, "_n_axons", np.array([c.synapses.n_axons for c in self.cores], np.int64))
        pages = PageBudget()  # route tables mapped from a file give their pages back as they go
        for core in self.cores:
            self._check_routes(core.routes, core.label + "RouteTable")
            pages.done(*core.routes.arrays().values())
        pages.flush()
        self._check_routes(self.inputs, "inputs RouteTable")
        self._check_parts()

    def _check_parts(self) -> None:
        n, n_in = self.n_compartments, self.inputs.n_sources
        if self.input_program is not None and self.input_program.n_axons != n_in:
            raise ImageError(f"the input program drives {self.input_program.n_axons} input axons, the image has {n_in}")
        pm = self.populations
        if pm is not None and (pm.n_compartments != n or pm.n_inputs != n_in):
            raise ImageError(f"the population map numbers {pm.n_compartments} compartments and {pm.n_inputs} "
                             f"inputs, the image has {n} and {n_in}")

    def with_parts(self, input_program: InputProgram | None, populations: PopulationMap | None) -> Image:
        """This image with another input program and population map (checked against its sizes;
        the cores, already checked, are shared, not copied)."""
        new = object.__new__(Image)
        new.__dict__.update(self.__dict__)
        object.__setattr__(new, "input_program", input_program)
        object.__setattr__(new, "populations", populations)
        new._check_parts()
        return new

    def core_positions(self, routes: RouteTable, label: str = "routes") -> np.ndarray:
        """For every route, the position in :attr:`cores` of its destination core.

        Raises :class:`ImageError` naming the first route to a core the image lacks.
        """
        lut = self._address_lut  # type: ignore[attr-defined]
        if lut is not None:  # addresses are dense: one lookup per route
            chip, core = routes.dest_chip.astype(np.int64), routes.dest_core.astype(np.int64)
            flat = chip * lut[1] + core
            inside = (core < lut[1]) & (flat < lut[0].size)
            pos = lut[0][np.where(inside, flat, 0)]
            missing = ~inside | (pos < 0)
            if not missing.any():
                return pos
        else:
            key = _address_key(routes.dest_chip.astype(np.int64), routes.dest_core.astype(np.int64))
            keys = self._addr_keys  # type: ignore[attr-defined]
            at = np.minimum(np.searchsorted(keys, key), max(keys.size - 1, 0))
            missing = (keys[at] != key) if keys.size else np.ones(key.size, bool)
            if not missing.any():
                return self._addr_pos[at]  # type: ignore[attr-defined]
        i = int(np.flatnonzero(missing)[0])
        raise ImageError(
            f"{label}[{i}] routes to chip {int(routes.dest_chip[i])} core {int(routes.dest_core[i])}, "
            "which is not in the image"
        )

    def _check_routes(self, routes: RouteTable, label: str) -> None:
        if routes.n == 0:
            return
        lim = self._n_axons[self.core_positions(routes, label)]  # type: ignore[attr-defined]
        bad = routes.dest_axon >= lim
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ImageError(
                f"{label}[{i}] routes to axon {int(routes.dest_axon[i])} of chip {int(routes.dest_chip[i])} "
                f"core {int(routes.dest_core[i])}, which has {int(lim[i])} input axons"
            )

    def core_at(self, chip: int, index: int) -> Core:
        return self._by_address[(chip, index)]  # type: ignore[attr-defined]

    @property
    def n_compartments(self) -> int:
        return sum(c.compartments.n for c in self.cores)

    @property
    def n_inputs(self) -> int:
        return self.inputs.n_sources

    @property
    def n_synapses(self) -> int:
        return sum(c.synapses.n for c in self.cores)

    @property
    def chips(self) -> list[int]:
        """The chip numbers in use, ascending."""
        return sorted({c.chip for c in self.cores})

    def equals(self, other: Image) -> bool:
        """True when both images hold the same cores, tables and input routes."""
        if len(self.cores) != len(other.cores) or self.spec.name != other.spec.name:
            return False
        for a, b in zip(self.cores, other.cores):
            if a.address != b.address:
                return False
            if not all(getattr(a, t).equals(getattr(b, t)) for t in CORE_TABLES):
                return False
        for mine, theirs in ((self.input_program, other.input_program), (self.populations, other.populations)):
            if (mine is None) != (theirs is None) or (mine is not None and not mine.equals(theirs)):
                return False
        return self.inputs.equals(other.inputs)

    def route_pairs(self, row_off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every route as a (source, global row) pair, sorted by source (stable).

        row_off: int64 [n_cores + 1], the global number of each core's first
        input axon (cores in image order). Sources: input ``i`` is ``i``,
        compartment ``g`` is ``n_in + g``.
        """
        n_in = self.n_inputs
        src_parts, row_parts = [], []
        for label, routes, src_ids in [("inputs", self.inputs, np.arange(n_in, dtype=np.int64))] + [
            (c.label, c.routes, n_in + c.compartments.global_index) for c in self.cores
        ]:
            if routes.n == 0:
                continue
            dest = row_off[self.core_positions(routes, label)] + routes.dest_axon
            src_parts.append(np.repeat(src_ids, np.diff(routes.ptr)))
            row_parts.append(dest)
        r_src = np.concatenate(src_parts) if src_parts else np.zeros(0, np.int64)
        r_row = np.concatenate(row_parts) if row_parts else np.zeros(0, np.int64)
        order = np.argsort(r_src, kind="stable")
        return r_src[order], r_row[order]


def _dense_lut(cores) -> tuple[np.ndarray, int] | None:
    """(position of core (chip, i) at chip * stride + i, stride) when addresses are dense enough, else None."""
    if not cores:
        return None
    chips = np.array([c.chip for c in cores], np.int64)
    idx = np.array([c.index for c in cores], np.int64)
    stride = int(idx.max()) + 1
    size = (int(chips.max()) + 1) * stride
    if size > 8 * len(cores) + 4096:
        return None
    lut = np.full(size, -1, np.int64)
    lut[chips * stride + idx] = np.arange(len(cores))
    return lut, stride


def _address_key(chip, core):
    """One sortable int64 per (chip, core) address."""
    return (chip << 32) | core
