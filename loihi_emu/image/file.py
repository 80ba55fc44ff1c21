"""Loading board images of every format version; saving the per-core layout of format 2.

:func:`load` reads formats ``loihi-image/3`` to ``/5`` through :mod:`loihi_emu.image.store`
(``/5`` is what :func:`loihi_emu.save` writes) and formats 1 and 2 itself.

Layout (format ``loihi-image/2``): the member ``header`` is a 0-d unicode
array holding JSON ``{"format", "spec", "cores": [[chip, core], ...],
"input_program", "population_map"}``; every table array is a member named
``core<i>.<table>.<field>`` (``i`` the position in ``header["cores"]``) or
``inputs.<field>``. ``input_program`` and ``population_map`` are the JSON
halves of :meth:`InputProgram.to_arrays` / :meth:`PopulationMap.to_arrays`
(or null); their arrays are the members ``program.<name>`` and
``popmap.<name>``. Format ``loihi-image/1`` (no program, no map) still
loads. Files are read with
``allow_pickle=False``; anything malformed, truncated, missing or of the wrong
dtype raises :class:`~loihi_emu.errors.ImageFileError` (or
:class:`~loihi_emu.errors.ImageError` when the arrays are well formed but
hold values the chip cannot hold).

Files written before learning existed stay readable: a table field listed in
the class's ``OPTIONAL`` (``SynapseTable.tag``,
``SynapseFormatTable.learning_profile``) and a core table in
``OPTIONAL_TABLES`` (``learning``) may be absent and take their defaults.
"""

from __future__ import annotations

import json
import os

import numpy as np

from loihi_emu.errors import ImageError, ImageFileError
from loihi_emu.hw import SPECS
from loihi_emu.image import store
from loihi_emu.image.core import CORE_TABLES, OPTIONAL_TABLES, Core, Image, RouteTable
from loihi_emu.image.inputs import InputProgram
from loihi_emu.image.npzread import NpzFile
from loihi_emu.image.popmap import PopulationMap
from loihi_emu.safefile import atomic_write, fspath

FORMAT = "loihi-image/2"
FORMATS = ("loihi-image/1", FORMAT, *store.FORMATS)
MAX_HEADER_CHARS = 1 << 26
MAX_CHIPS = 1 << 16
"""Chip ids a header may name: 0..MAX_CHIPS - 1."""


def save(image: Image, path: str | os.PathLike) -> None:
    """Write ``image`` to ``path`` in the per-core format ``loihi-image/2`` (an ``.npz``; no pickled objects),
    atomically: a failure leaves any existing file at ``path`` as it was. The name written is ``path``
    exactly (no suffix is added). New files are written by :func:`loihi_emu.image.store.save` (format 3)."""
    if not isinstance(image, Image):
        raise ImageError(f"save: expected an Image, got {type(image).__name__}")
    header = {
        "format": FORMAT,
        "spec": image.spec.name,
        "cores": [[c.chip, c.index] for c in image.cores],
        "input_program": None,
        "population_map": None,
    }
    arrays: dict[str, np.ndarray] = {}
    for key, prefix, part in (("input_program", "program", image.input_program),
                              ("population_map", "popmap", image.populations)):
        if part is not None:
            doc, parts = part.to_arrays()
            header[key] = doc
            arrays.update({f"{prefix}.{k}": v for k, v in parts.items()})
    arrays["header"] = np.array(json.dumps(header))
    for i, core in enumerate(image.cores):
        for tname in CORE_TABLES:
            for fname, arr in getattr(core, tname).arrays().items():
                arrays[f"core{i}.{tname}.{fname}"] = arr
    for fname, arr in image.inputs.arrays().items():
        arrays[f"inputs.{fname}"] = arr
    with atomic_write(path, "board image") as fh:
        np.savez(fh, **arrays)


def _read_member(files: NpzFile, key: str, dtype: np.dtype, path: str) -> np.ndarray:
    return files.read(key, dtype=dtype, ndim=1)


def _parse_header(files: NpzFile, path: str) -> dict:
    if "header" not in files.files:
        raise ImageFileError(f"{path}: not a board image (no 'header' member)")
    try:
        shape, dtype, _ = files.header("header")
        if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_HEADER_CHARS:
            raise ImageFileError(f"{path}: header must be a JSON string of at most {MAX_HEADER_CHARS} characters")
        raw = files.read("header")
    except ImageFileError as exc:
        msg = str(exc).removeprefix(f"{path}: ")
        raise ImageFileError(f"{path}: header is unreadable ({msg})") from None
    try:
        header = json.loads(str(raw))
    except (ValueError, RecursionError) as exc:
        raise ImageFileError(f"{path}: header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") not in FORMATS:
        got = header.get("format") if isinstance(header, dict) else None
        raise ImageFileError(f"{path}: header format is {got!r}, expected one of {list(FORMATS)}")
    if not isinstance(header.get("spec"), str) or header["spec"] not in SPECS:
        raise ImageFileError(f"{path}: unknown hardware spec {header.get('spec')!r}; known: {sorted(SPECS)}")
    cores = header.get("cores")
    if not isinstance(cores, list) or not all(
        isinstance(a, list) and len(a) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in a) for a in cores
    ):
        raise ImageFileError(f"{path}: header 'cores' must be a list of [chip, core] integer pairs")
    cpc = SPECS[header["spec"]].cores_per_chip
    seen = set()
    for chip, index in cores:
        if not (0 <= chip < MAX_CHIPS and 0 <= index < cpc):
            raise ImageFileError(f"{path}: header core [{chip}, {index}] is outside chips 0..{MAX_CHIPS - 1}, "
                                 f"cores 0..{cpc - 1}")
        if (chip, index) in seen:
            raise ImageFileError(f"{path}: header lists core [{chip}, {index}] twice")
        seen.add((chip, index))
    return header


def _read_part(files: NpzFile, header: dict, key: str, prefix: str, cls, path: str):
    """An input program or population map from its header JSON and ``<prefix>.*`` members (None if absent)."""
    doc = header.get(key)
    if doc is None:
        return None
    arrays = {f[len(prefix) + 1:]: files.read(f) for f in files.files if f.startswith(prefix + ".")}
    try:
        return cls.from_arrays(doc, arrays)
    except ImageFileError as exc:
        raise ImageFileError(f"{path}: {exc}") from None


def load(path: str | os.PathLike) -> Image:
    """Read a board image of any format version (1, 2, or 3 to 5 via :mod:`.store`). Never unpickles anything."""
    label = fspath(path, "board image")
    with NpzFile(label, ImageFileError, "board image") as files:
        header = _parse_header(files, label)
        if header["format"] in store.FORMATS:
            files.close()
            return store.load(label)
        spec = SPECS[header["spec"]]
        cores = []
        try:
            for i, (chip, index) in enumerate(header["cores"]):
                where = f"chip {chip} core {index}: "
                tables = {}
                for tname, cls in CORE_TABLES.items():
                    keys = {f: f"core{i}.{tname}.{f}" for f in cls.DTYPES}
                    present = {f for f, k in keys.items() if k in files.files}
                    if tname in OPTIONAL_TABLES and not present:
                        continue  # an older file: the core's default (empty) table
                    data = {
                        f: _read_member(files, keys[f], np.dtype(dt), label)
                        for f, dt in cls.DTYPES.items()
                        if f in present or f not in cls.OPTIONAL
                    }
                    tables[tname] = cls(**data, where=where, spec=spec)
                cores.append(Core(chip, index, **tables))
            inputs = RouteTable(
                **{f: _read_member(files, f"inputs.{f}", np.dtype(dt), label) for f, dt in RouteTable.DTYPES.items()},
                where="inputs: ",
                spec=spec,
            )
            program = _read_part(files, header, "input_program", "program", InputProgram, label)
            popmap = _read_part(files, header, "population_map", "popmap", PopulationMap, label)
            return Image(tuple(cores), inputs, spec, program, popmap)
        except ImageError as exc:
            raise ImageError(f"{label}: {exc}") from None
