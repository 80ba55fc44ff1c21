"""Conformance vectors (format ``loihi-vec/1``): load, run, compare.

A vector is a register-level network, its input spikes and (optionally) what
an independent emulator computed for it. :func:`load_vector` turns it into a
board image that keeps the file's compartment numbering as the global
numbering and the file's ``core`` column as the placement. Register fields are
range-checked; per-core profile limits are not (FORMAT.md: vectors test the
arithmetic, not a mappable layout).
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .build import build_image
from .emulator import Emulator
from .errors import ImageError, ImageFileError
from .hw import LOIHI1, HardwareSpec
from .image import Image

FORMAT = "loihi-vec/1"
EXPECTED = ("out_spikes", "out_u", "out_v")
PROBE_OF = {"out_spikes": "spikes", "out_u": "u", "out_v": "v"}
_REQUIRED = (
    "decay_u_reg", "decay_v", "vth_mant", "bias_mant", "bias_exp", "refract", "vmin", "vmax",
    "syn_pre", "syn_post", "syn_wmant", "syn_wexp", "syn_delay", "in_spikes",
)


@dataclass
class Vector:
    """One conformance case.

    image: the board image. inputs: uint8 [steps, n_in] external spikes.
    steps, n_in: sizes. expected: name -> array [steps, n] (None when the
    file has no outputs). meta: the file's JSON metadata.
    """

    name: str
    image: Image
    inputs: np.ndarray
    steps: int
    n_in: int
    expected: dict[str, np.ndarray] | None
    meta: dict = field(default_factory=dict)


@dataclass
class Mismatch:
    """The first disagreement of a run with a vector."""

    array: str
    step: int
    index: int
    expected: int
    got: int

    def __str__(self) -> str:
        return f"{self.array} step {self.step} compartment {self.index}: expected {self.expected}, got {self.got}"


def _read(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        files = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ImageFileError(f"{path}: not a readable .npz file ({exc})") from None
    if not hasattr(files, "files"):
        raise ImageFileError(f"{path}: holds a single array, not a vector")
    with files:
        try:
            arrays = {k: files[k] for k in files.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ImageFileError(f"{path}: a member is unreadable ({exc})") from None
    if "meta" not in arrays:
        raise ImageFileError(f"{path}: no 'meta' member; not a {FORMAT} file")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except json.JSONDecodeError as exc:
        raise ImageFileError(f"{path}: meta is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ImageFileError(f"{path}: meta format is not {FORMAT!r}")
    missing = [k for k in _REQUIRED if k not in arrays]
    if missing:
        raise ImageFileError(f"{path}: missing arrays {', '.join(missing)}")
    for k in _REQUIRED:
        want = 2 if k == "in_spikes" else 1
        if arrays[k].ndim != want or arrays[k].dtype.kind not in "biu":
            raise ImageFileError(f"{path}: '{k}' must be a {want}-D integer array, got {arrays[k].dtype} {arrays[k].shape}")
    return meta, arrays


def load_vector(path: str | os.PathLike, spec: HardwareSpec = LOIHI1) -> Vector:
    """Read one ``loihi-vec/1`` case into a board image and its inputs."""
    path = os.fspath(path)
    meta, a = _read(path)
    n = a["decay_u_reg"].size
    in_spikes = a["in_spikes"]
    steps, n_in = in_spikes.shape
    core = a.get("core", np.zeros(n, np.int64))
    if core.shape != (n,):
        raise ImageFileError(f"{path}: 'core' has shape {core.shape}, expected ({n},)")
    try:
        image = build_image(
            {k: a[k] for k in _REQUIRED[:8]},
            core,
            n_in=n_in,
            syn_pre=a["syn_pre"],
            syn_post=a["syn_post"],
            syn_wmant=a["syn_wmant"],
            syn_wexp=a["syn_wexp"],
            syn_delay=a["syn_delay"],
            spec=spec,
        )
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from None
    expected = None
    if all(k in a for k in EXPECTED):
        expected = {}
        for k in EXPECTED:
            if a[k].shape != (steps, n):
                raise ImageFileError(f"{path}: '{k}' has shape {a[k].shape}, expected ({steps}, {n})")
            expected[k] = a[k]
    name = str(meta.get("name") or Path(path).stem)
    return Vector(name, image, in_spikes.astype(np.uint8), steps, n_in, expected, meta)


def check_vector(vec: Vector, backend: str = "numba") -> Mismatch | None:
    """Run ``vec`` and return its first mismatch, or None when every array agrees."""
    if vec.expected is None:
        raise ImageFileError(f"{vec.name}: the file has no expected outputs to compare with")
    emu = Emulator(vec.image, probes=[PROBE_OF[k] for k in vec.expected], backend=backend)
    emu.run(vec.steps, vec.inputs)
    return first_mismatch(vec.expected, {k: emu.data[PROBE_OF[k]] for k in vec.expected})


def first_mismatch(expected: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> Mismatch | None:
    """Earliest step (then array order, then index) where ``got`` differs from ``expected``."""
    best: Mismatch | None = None
    for name, want in expected.items():
        have = got[name]
        diff = np.argwhere(want.astype(np.int64) != have.astype(np.int64))
        if diff.size:
            s, i = (int(x) for x in diff[0])
            if best is None or s < best.step:
                best = Mismatch(name, s, i, int(want[s, i]), int(have[s, i]))
    return best


def find_vectors(paths: list[str | os.PathLike]) -> list[Path]:
    """Expand files and folders (recursively, ``*.npz``) into a sorted list of files."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("*.npz")))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return out
