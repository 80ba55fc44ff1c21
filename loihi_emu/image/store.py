"""Board images in formats ``loihi-image/3``, ``/4`` and ``/5``: a few large arrays per chip, memory-mapped.

Format 4 is format 3's layout with the compartment noise fields
(``compartments.noise_mode``, ``noise_exp``, ``noise_offset``; docs/noise.md)
written; a format-3 file lacks them and loads with their defaults (no noise).
Format 5 adds the dendritic join fields (``compartments.join_op``,
``join_offset``; docs/dendrites.md); older files load with every compartment a root.
One uncompressed ``.npz`` (docs/board-image.md, "Format 3"):

* ``header``: 0-d unicode JSON ``{"format": "loihi-image/5", "spec",
  "cores": [[chip, core], ...] (image order), "fields": {table: [field, ...]},
  "chips": {chip: {"cores", "compartments", "synapses"}}, "sections": {name: json}}``;
* per chip ``c`` and table field: ``chip<c>.<table>.<field>``, the field's
  arrays of the chip's cores (in image order) concatenated, and
  ``chip<c>.offsets``: int64 ``[n_fields, n_cores + 1]`` (flattened; fields in
  header order), where core ``i``'s slice of field ``j`` starts and ends.
  CSR pointers stay per core (each starts at 0), so a slice is a table;
* ``inputs.<field>``: the image-level input route table;
* ``section.<name>.<array>``: named image-level sections; ``header["sections"][name]``
  holds the section's JSON part. An object with ``to_arrays() -> (json_dict,
  {name: ndarray})`` is saved as a section unchanged; read it back with
  :meth:`ImageStore.section` and the class's ``from_arrays(json_dict, arrays)``.

Members are stored (not deflated) and 64-byte aligned, so every member is
memory-mapped where it lies and a reader of chip ``c`` touches only chip
``c``'s members (:meth:`ImageStore.chip_cores`). Loading costs one member
lookup per table field per chip and one slice per core and field: linear in
cores and synapses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from loihi_emu.errors import ImageError, ImageFileError
from loihi_emu.hw import SPECS, HardwareSpec
from loihi_emu.image import chipcheck
from loihi_emu.image.core import CORE_TABLES, Core, Image, RouteTable
from loihi_emu.image.inputs import InputProgram
from loihi_emu.image.npzmap import NpzMap, NpzWriter
from loihi_emu.image.pages import PageBudget
from loihi_emu.image.popmap import PopulationMap
from loihi_emu.safefile import atomic_write, fspath

FORMAT = "loihi-image/5"
FORMATS = ("loihi-image/3", "loihi-image/4", FORMAT)
"""The formats this module reads (same layout; 4 and 5 add optional table fields), the last one written."""
FAST_TABLES = ("compartments", "formats", "synapses", "routes")
"""Tables validated chip-wide (:mod:`loihi_emu.image.chipcheck`) when every field is present."""


def _fields() -> list[tuple[str, str, np.dtype]]:
    return [(t, f, np.dtype(dt)) for t, cls in CORE_TABLES.items() for f, dt in cls.DTYPES.items()]


def _section_parts(name: str, value: Any) -> tuple[dict, dict[str, np.ndarray]]:
    if hasattr(value, "to_arrays"):
        value = value.to_arrays()
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Mapping)):
        raise ImageError(f"section {name!r}: expected an object with to_arrays() or a (json dict, arrays) pair")
    meta, arrays = value
    try:
        json.dumps(meta)
    except (TypeError, ValueError) as exc:
        raise ImageError(f"section {name!r}: its JSON part cannot be written ({exc})") from None
    return meta, {k: np.asarray(v) for k, v in arrays.items()}


# The image's own sections: what a run needs besides the tables (section name -> class).
IMAGE_SECTIONS = {"input_program": InputProgram, "population_map": PopulationMap}


def image_parts(image: Image) -> dict[str, Any]:
    """The image-level parts stored as sections: its input program and population map (None when absent)."""
    return {"input_program": image.input_program, "population_map": image.populations}


def save(image: Image, path: str | os.PathLike, sections: Mapping[str, Any] | None = None) -> None:
    """Write ``image`` (and named ``sections``) to ``path`` in format ``loihi-image/5``.

    The file is written next to ``path`` under a temporary name and renamed
    into place, so a failed save never destroys an existing file.
    """
    if not isinstance(image, Image):
        raise ImageError(f"save: expected an Image, got {type(image).__name__}")
    sections = {**{name: part for name, part in image_parts(image).items() if part is not None}, **(sections or {})}
    parts = {name: _section_parts(name, v) for name, v in sections.items()}
    fields = _fields()
    chips: dict[int, list[Core]] = {}
    for core in image.cores:
        chips.setdefault(core.chip, []).append(core)
    header = {
        "format": FORMAT,
        "spec": image.spec.name,
        "cores": [[c.chip, c.index] for c in image.cores],
        "fields": {t: list(cls.DTYPES) for t, cls in CORE_TABLES.items()},
        "chips": {str(chip): {"cores": len(cs), "compartments": sum(c.compartments.n for c in cs),
                              "synapses": sum(c.synapses.n for c in cs)} for chip, cs in chips.items()},
        "sections": {name: meta for name, (meta, _) in parts.items()},
    }
    with atomic_write(fspath(path, "board image"), "board image") as fh:
        with NpzWriter(fh) as w:
            w.add("header", np.array(json.dumps(header)))
            for chip, cs in chips.items():
                offs = np.zeros((len(fields), len(cs) + 1), np.int64)
                for j, (t, f, dt) in enumerate(fields):
                    arrs = [getattr(getattr(c, t), f) for c in cs]
                    np.cumsum([a.size for a in arrs], out=offs[j, 1:])
                    w.add(f"chip{chip}.{t}.{f}", arrs, dt)
                w.add(f"chip{chip}.offsets", offs.ravel())
            for f, arr in image.inputs.arrays().items():
                w.add(f"inputs.{f}", arr)
            for name, (_, arrays) in parts.items():
                for k, arr in arrays.items():
                    w.add(f"section.{name}.{k}", arr)


class ImageStore:
    """An opened ``loihi-image/3`` or ``/4`` file; members are mapped only when asked for.

    addresses: (chip, core) of every core in image order. chips: chip numbers
    ascending. sizes: per chip, its cores, compartments and synapses (from
    the header, without reading any array), for assigning chips to processes.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._map = NpzMap(self.path)
        self.header = _parse_header(self._map, self.path)
        self.spec: HardwareSpec = SPECS[self.header["spec"]]
        self.addresses = [tuple(a) for a in self.header["cores"]]
        self.sizes = {int(k): v for k, v in self.header["chips"].items()}
        self.chips = sorted(self.sizes)

    @property
    def sections(self) -> list[str]:
        return sorted(self.header["sections"])

    def section(self, name: str) -> tuple[dict, dict[str, np.ndarray]]:
        """The JSON part and the arrays (memory-mapped) of section ``name``."""
        if name not in self.header["sections"]:
            raise ImageFileError(f"{self.path}: no section {name!r} (sections: {self.sections})")
        prefix = f"section.{name}."
        arrays = {m[len(prefix):]: self._map.array(m) for m in sorted(self._map.names) if m.startswith(prefix)}
        return self.header["sections"][name], arrays

    def _member(self, name: str, dtype: np.dtype) -> np.ndarray:
        arr = self._map.array(name)
        if arr.dtype != dtype or arr.ndim != 1:
            raise ImageFileError(
                f"{self.path}: member '{name}' has dtype {arr.dtype} and shape {arr.shape}, expected 1-D {dtype}")
        return arr

    def chip_cores(self, chip: int) -> list[Core]:
        """The cores of ``chip`` in image order; reads only that chip's members."""
        if chip not in self.sizes:
            raise ImageFileError(f"{self.path}: no chip {chip} in the image (chips: {self.chips})")
        where_cores = [a for a in self.addresses if a[0] == chip]
        names = self.header["fields"]
        fields = [(t, f, dt) for t, f, dt in _fields() if f in names.get(t, ())]
        k = len(where_cores)
        offs = self._member(f"chip{chip}.offsets", np.dtype(np.int64))
        if offs.size != len(fields) * (k + 1):
            raise ImageFileError(f"{self.path}: member 'chip{chip}.offsets' has {offs.size} entries, "
                                 f"expected {len(fields) * (k + 1)}")
        offs = np.asarray(offs).reshape(len(fields), k + 1)
        members: dict[str, dict[str, np.ndarray]] = {t: {} for t in CORE_TABLES}
        rows: dict[str, dict[str, np.ndarray]] = {t: {} for t in CORE_TABLES}
        for j, (t, f, dt) in enumerate(fields):
            arr = self._member(f"chip{chip}.{t}.{f}", dt)
            o = offs[j]
            if o[0] != 0 or o[-1] != arr.size or (np.diff(o) < 0).any():
                raise ImageFileError(f"{self.path}: member 'chip{chip}.offsets' row {j} ({t}.{f}) does not "
                                     f"split {arr.size} entries into {k} cores")
            members[t][f], rows[t][f] = arr, o
        full = all(set(CORE_TABLES[t].DTYPES) - CORE_TABLES[t].OPTIONAL <= set(members[t]) for t in FAST_TABLES)
        fast = full and chipcheck.check_chip({t: members[t] for t in FAST_TABLES}, {t: rows[t] for t in FAST_TABLES},
                                             f"chip {chip}: ", self.spec)
        empty_learning = fast and chipcheck.no_learning(members["learning"], rows["learning"])
        cores, pages = [], PageBudget()
        pages.watch(*(a for ms in members.values() for a in ms.values()))
        pages.flush()  # the chip-wide check read them all
        try:
            for i, (c, index) in enumerate(where_cores):
                where = f"chip {c} core {index}: "
                tables = {t: {f: a[rows[t][f][i] : rows[t][f][i + 1]] for f, a in ms.items()}
                          for t, ms in members.items()}
                built = {}
                for t, d in tables.items():
                    if not d:
                        continue
                    cls = CORE_TABLES[t]
                    if (fast and t in FAST_TABLES) or (t == "learning" and empty_learning):
                        built[t] = chipcheck.trusted(cls, d, where, self.spec)
                    else:
                        built[t] = cls(**d, where=where, spec=self.spec)
                cores.append(Core(c, index, **built))
                pages.spend(sum(a.nbytes for d in tables.values() for a in d.values()))  # validated: give pages back
        except (ImageError, TypeError) as exc:
            raise ImageError(f"{self.path}: {exc}") from None
        pages.unwatch()
        return cores

    def inputs(self) -> RouteTable:
        """The image-level routes of the external input axons."""
        data = {f: self._member(f"inputs.{f}", np.dtype(dt)) for f, dt in RouteTable.DTYPES.items()}
        try:
            return RouteTable(**data, where="inputs: ", spec=self.spec)
        except ImageError as exc:
            raise ImageError(f"{self.path}: {exc}") from None

    def image(self) -> Image:
        """The whole image; its tables are views of the mapped file."""
        by_chip = {chip: iter(self.chip_cores(chip)) for chip in self.chips}
        cores = [next(by_chip[chip]) for chip, _ in self.addresses]
        parts = {}
        for name, cls in IMAGE_SECTIONS.items():
            if name in self.header["sections"]:
                try:
                    parts[name] = cls.from_arrays(*self.section(name))
                except ImageFileError as exc:
                    raise ImageFileError(f"{self.path}: section {name!r}: {exc}") from None
        try:
            return Image(tuple(cores), self.inputs(), self.spec, parts.get("input_program"), parts.get("population_map"))
        except ImageError as exc:
            raise ImageError(f"{self.path}: {exc}") from None


def _parse_header(m: NpzMap, path: str) -> dict:
    if "header" not in m.names:
        raise ImageFileError(f"{path}: not a board image (no 'header' member)")
    raw = m.array("header")
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise ImageFileError(f"{path}: header must be a JSON string")
    try:
        header = json.loads(str(raw[()]))
    except json.JSONDecodeError as exc:
        raise ImageFileError(f"{path}: header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") not in FORMATS:
        got = header.get("format") if isinstance(header, dict) else None
        raise ImageFileError(f"{path}: header format is {got!r}, expected one of {list(FORMATS)}")
    if header.get("spec") not in SPECS:
        raise ImageFileError(f"{path}: unknown hardware spec {header.get('spec')!r}; known: {sorted(SPECS)}")
    cores = header.get("cores")
    if not isinstance(cores, list) or not all(
        isinstance(a, list) and len(a) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in a)
        for a in cores
    ):
        raise ImageFileError(f"{path}: header 'cores' must be a list of [chip, core] integer pairs")
    fields, chips, sections = header.get("fields"), header.get("chips"), header.get("sections")
    if not isinstance(fields, dict) or not all(isinstance(v, list) for v in fields.values()):
        raise ImageFileError(f"{path}: header 'fields' must map table names to field lists")
    for t, cls in CORE_TABLES.items():
        missing = [f for f in cls.DTYPES if f not in fields.get(t, ()) and f not in cls.OPTIONAL]
        if fields.get(t) and missing:
            raise ImageFileError(f"{path}: header 'fields' lacks {t}.{missing[0]}")
    if not isinstance(chips, dict) or {int(c) for c, _ in cores} != {int(k) for k in chips if k.lstrip("-").isdigit()} \
            or not all(isinstance(v, dict) for v in chips.values()):
        raise ImageFileError(f"{path}: header 'chips' must list every chip of 'cores' with its sizes")
    if not isinstance(sections, dict):
        raise ImageFileError(f"{path}: header 'sections' must be a JSON object")
    return header


def format_of(path: str | os.PathLike) -> str | None:
    """The ``format`` of a board-image file's header, or None when it cannot be read."""
    try:
        m = NpzMap(path)
        if "header" not in m.names:
            return None
        raw = m.array("header")
        return json.loads(str(raw[()])).get("format") if raw.dtype.kind == "U" and raw.ndim == 0 else None
    except (ImageFileError, ValueError, AttributeError, OSError):
        return None


def load(path: str | os.PathLike) -> Image:
    """Read a ``loihi-image/3`` or ``/4`` file (tables memory-mapped, read-only). Never unpickles anything."""
    return ImageStore(path).image()
