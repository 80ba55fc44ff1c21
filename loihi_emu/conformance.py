"""Conformance vectors (format ``loihi-vec/1``): load, run, compare.

A vector is a register-level network, its input spikes and (optionally) what
an independent emulator computed for it. :func:`load_vector` turns it into a
board image that keeps the file's compartment numbering as the global
numbering and the file's ``core`` column as the placement. Register fields are
range-checked; per-core profile limits are not (FORMAT.md: vectors test the
arithmetic, not a mappable layout).

Learning cases (``syn_plastic`` present) get one learning profile from
``meta``: the rule text, the trace settings, ``learning_epoch`` and
``rounding``; each plastic group's sign mode and weight bits make its
synapse format (its ``precision`` and ``w_mant_min``/``w_mant_max`` are
checked against what the spec derives from them). :func:`check_vector`
compares every expected array the file holds: spikes, u, v, weights
(``out_w``, ``out_wmant``) per file synapse, traces per source or
compartment (``out_x1`` ...) and per synapse (``out_x1_syn`` ...).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from loihi_emu.errors import ImageError, ImageFileError, MissingFileError
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.build import build_image
from loihi_emu.image.core import REGISTERS, SIGN_MIXED, TRACES, Image
from loihi_emu.image.npzread import NpzFile
from loihi_emu.image.profiles import LearningProfile
from loihi_emu.image.weights import shift_exponent
from loihi_emu.runtime.emulator import Emulator
from loihi_emu.safefile import fspath
from microcode.ir import Factor, Product, Program, Rule

FORMAT = "loihi-vec/1"
EXPECTED = ("out_spikes", "out_u", "out_v")
PROBE_OF = {"out_spikes": "spikes", "out_u": "u", "out_v": "v", **{f"out_{t}": t for t in TRACES}}
SYNAPSE_ARRAYS = ("out_w", "out_wmant") + tuple(f"out_{t}_syn" for t in TRACES)
LEARNING_ARRAYS = tuple(f"out_{t}" for t in TRACES) + SYNAPSE_ARRAYS
_REQUIRED = (
    *REGISTERS,
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
    syn: dict[str, np.ndarray] = field(default_factory=dict)
    """Learning cases: per file synapse 'pre', 'post', 'plastic' (bool), 'order'
    (its index in the emulator's stable plastic order, -1 if not plastic),
    'w' and 'wmant' (the constant effective weight and mantissa of a static one)."""


@dataclass
class Mismatch:
    """The first disagreement of a run with a vector."""

    array: str
    step: int
    index: int
    expected: int
    got: int

    def __str__(self) -> str:
        what = "synapse" if self.array in SYNAPSE_ARRAYS else (
            "source" if self.array in ("out_x1", "out_x2") else "compartment")
        return f"{self.array} step {self.step} {what} {self.index}: expected {self.expected}, got {self.got}"


MAX_META_CHARS = 1 << 24
MAX_STEPS = 1_000_000
"""Most steps a vector may ask for (a test case, not a long run)."""
DERIVED = ("decay_u", "vth", "bias", "syn_w")
"""Members a vector may also hold that follow from its registers; when present they must agree."""


def _read(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    with NpzFile(path, ImageFileError, "vector") as files:
        if "meta" not in files:
            raise ImageFileError(f"{path}: no 'meta' member; not a {FORMAT} file")
        shape, dtype, _ = files.header("meta")
        if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_META_CHARS:
            raise ImageFileError(f"{path}: 'meta' must be a JSON string of at most {MAX_META_CHARS} characters")
        try:
            meta = json.loads(str(files.read("meta")))
        except (ValueError, RecursionError) as exc:
            raise ImageFileError(f"{path}: meta is not valid JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ImageFileError(f"{path}: meta format is not {FORMAT!r}")
        missing = [k for k in _REQUIRED if k not in files]
        if missing:
            raise ImageFileError(f"{path}: missing arrays {', '.join(missing)}")
        arrays = {}
        for k in files.names:
            if k == "meta":
                continue
            want = 2 if k == "in_spikes" or k.startswith("out_") else 1
            arrays[k] = files.read(k, ndim=want, kinds="biu")
    if in_bad := np.flatnonzero((arrays["in_spikes"] < 0) | (arrays["in_spikes"] > 1)).size:
        raise ImageFileError(f"{path}: 'in_spikes' holds {in_bad} values other than 0 and 1")
    _check_derived(path, arrays)
    return meta, arrays


def _check_derived(path: str, a: dict[str, np.ndarray]) -> None:
    """A derived member (decay_u, vth, bias, syn_w) that contradicts the registers is an error, not ignored."""
    def i64(k: str) -> np.ndarray:
        return a[k].astype(np.int64)

    try:
        rules = {
            "decay_u": lambda: i64("decay_u_reg") + 1,
            "vth": lambda: i64("vth_mant") << 6,
            "bias": lambda: i64("bias_mant") << np.clip(i64("bias_exp"), 0, 62),
            "syn_w": lambda: shift_exponent(i64("syn_wmant"), np.clip(i64("syn_wexp"), -62, 62)) << 6,
        }
        for k, derive in rules.items():
            if k not in a:
                continue
            want = derive()
            if a[k].shape != want.shape:
                raise ImageFileError(f"{path}: '{k}' has shape {a[k].shape}, expected {want.shape}")
            bad = np.flatnonzero(i64(k) != want)
            if bad.size:
                i = int(bad[0])
                raise ImageFileError(f"{path}: '{k}'[{i}] = {int(a[k][i])} contradicts the registers, "
                                     f"which give {int(want[i])}")
    except (ValueError, OverflowError) as exc:  # shapes that do not broadcast
        raise ImageFileError(f"{path}: derived members do not match the registers ({exc})") from None


def load_vector(path: str | os.PathLike, spec: HardwareSpec = LOIHI1) -> Vector:
    """Read one ``loihi-vec/1`` case into a board image and its inputs."""
    path = fspath(path, "vector")
    meta, a = _read(path)
    n = a["decay_u_reg"].size
    in_spikes = a["in_spikes"]
    steps, n_in = in_spikes.shape
    if steps > MAX_STEPS:
        raise ImageFileError(f"{path}: 'in_spikes' has {steps} steps; a vector may have at most {MAX_STEPS}")
    core = a.get("core", np.zeros(n, np.int64))
    if core.shape != (n,):
        raise ImageFileError(f"{path}: 'core' has shape {core.shape}, expected ({n},)")
    n_syn = a["syn_pre"].size
    try:
        learn = _learning_args(path, meta, a, spec) if "syn_plastic" in a else {}
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        if isinstance(exc, (ImageFileError, ImageError)):
            raise
        raise ImageFileError(f"{path}: learning metadata is malformed ({type(exc).__name__}: {exc})") from None
    syn = learn.pop("_syn", {})
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
            **learn,
        )
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from None
    expected = None
    if all(k in a for k in EXPECTED):
        expected = {}
        shapes = {k: (steps, n) for k in EXPECTED + ("out_y1", "out_y2", "out_y3")}
        shapes.update({"out_x1": (steps, n_in + n), "out_x2": (steps, n_in + n)})
        shapes.update({k: (steps, n_syn) for k in SYNAPSE_ARRAYS})
        for k in EXPECTED + (LEARNING_ARRAYS if syn else ()):
            if k not in a:
                continue
            if a[k].shape != shapes[k]:
                raise ImageFileError(f"{path}: '{k}' has shape {a[k].shape}, expected {shapes[k]}")
            expected[k] = a[k]
    name = str(meta.get("name") or Path(path).stem)
    return Vector(name, image, in_spikes.astype(np.uint8), steps, n_in, expected, meta, syn)


def _learning_args(path: str, meta: dict, a: dict[str, np.ndarray], spec: HardwareSpec) -> dict:
    """build_image arguments of a learning case, plus '_syn' (the per-synapse map for check_vector)."""
    n_syn = a["syn_pre"].size
    plastic = a["syn_plastic"].astype(bool)
    group = a.get("syn_group", np.zeros(n_syn, np.int64)).astype(np.int64)
    if plastic.shape != (n_syn,) or group.shape != (n_syn,):
        raise ImageFileError(f"{path}: 'syn_plastic' and 'syn_group' must have shape ({n_syn},)")
    groups = {int(g["group_id"]): g for g in meta.get("syn_groups", [])}
    sign = np.full(n_syn, SIGN_MIXED, np.int64)
    wbits = np.full(n_syn, spec.max_weight_bits, np.int64)
    for gid in np.unique(group):
        g = groups.get(int(gid))
        if g is None:
            raise ImageFileError(f"{path}: synapse group {int(gid)} is not described in meta['syn_groups']")
        sel = group == gid
        sign[sel] = int(g.get("sign_mode", SIGN_MIXED))
        if plastic[sel].any():
            bits = int(g["num_weight_bits"])
            mixed = sign[sel][0] == SIGN_MIXED
            step = spec.weight_step(bits, mixed)
            lo, hi = spec.plastic_mantissa_range(int(sign[sel][0]))
            claims = (int(g.get("precision", step)), int(g.get("w_mant_min", lo)), int(g.get("w_mant_max", hi)))
            if claims != (step, lo, hi):
                raise ImageFileError(
                    f"{path}: group {int(gid)} states precision, w_mant_min, w_mant_max = {claims}; "
                    f"the spec derives {(step, lo, hi)} from sign mode {int(sign[sel][0])} and {bits} weight bits"
                )
            wbits[sel] = bits
        else:  # static: the effective weight keeps every mantissa bit, as the file's syn_w does
            wbits[sel] = spec.max_weight_bits - int(sign[sel][0] != SIGN_MIXED)
    rule = str(meta.get("rule", ""))
    rounding = str(meta.get("rounding", "det"))
    settings = dict(traces=meta.get("traces", {}), epoch=int(meta.get("learning_epoch", 1)),
                    rounding="stochastic" if rounding.startswith("stoch") else "det", spec=spec)
    try:
        if meta.get("rule_products"):
            profile = LearningProfile.from_program(_rule_program(meta, path), **settings)
        else:
            profile = LearningProfile.from_rule(rule if "=" in rule else f"dw = {rule}", **settings)
    except (ValueError, KeyError, TypeError) as exc:
        raise ImageFileError(f"{path}: learning rule {rule!r} or its traces are invalid ({exc})") from None
    pre, post = a["syn_pre"].astype(np.int64), a["syn_post"].astype(np.int64)
    idx = np.arange(n_syn)
    order = np.full(n_syn, -1, np.int64)
    pl = np.flatnonzero(plastic)
    order[pl[np.lexsort((idx[pl], post[pl], pre[pl]))]] = np.arange(pl.size)  # the stable plastic order
    wmant, wexp = a["syn_wmant"].astype(np.int64), a["syn_wexp"].astype(np.int64)
    w = shift_exponent(wmant, wexp) << spec.weight_shift
    syn = dict(pre=pre, post=post, plastic=plastic, order=order, w=w, wmant=wmant)
    return dict(syn_weight_bits=wbits, syn_sign_mode=sign, syn_learning=np.where(plastic, 0, -1),
                learning_profiles=[profile], _syn=syn)


def _rule_program(meta: dict, path: str) -> Program:
    """The rule IR of ``meta["rule_products"]``, the structured (unambiguous) form of the rule.

    Each product is ``{"scale_mant", "scale_exp", "factors": [[variable, constant], ...]}``
    meaning ``scale_mant * 2^scale_exp * prod(variable + constant)``; a factor
    without a variable is the constant alone.
    """

    try:
        products = []
        for p in meta["rule_products"]:
            factors = []
            for var, const in p["factors"]:
                if not var:
                    factors.append(Factor(None, int(const), "const"))
                else:
                    factors.append(Factor(str(var), int(const), "bracket" if int(const) else "var"))
            products.append(Product(int(p["scale_mant"]), int(p["scale_exp"]), tuple(factors)))
        return Program((Rule("dw", tuple(products)),))
    except (KeyError, TypeError, ValueError) as exc:
        raise ImageFileError(f"{path}: meta['rule_products'] is malformed ({exc})") from None


def check_vector(vec: Vector, backend: str = "numba") -> Mismatch | None:
    """Run ``vec`` and return its first mismatch, or None when every array agrees."""
    if vec.expected is None:
        raise ImageFileError(f"{vec.name}: the file has no expected outputs to compare with")
    probes = {PROBE_OF[k] for k in vec.expected if k in PROBE_OF}
    probes |= {k[4:-4] for k in vec.expected if k.endswith("_syn")}
    if {"out_w", "out_wmant"} & set(vec.expected):
        probes |= {"w", "wmant"}
    emu = Emulator(vec.image, probes=sorted(probes), backend=backend)
    emu.run(vec.steps, vec.inputs)
    got = {}
    for k in vec.expected:
        if k in PROBE_OF:
            got[k] = emu.data[PROBE_OF[k]]
        elif k in ("out_w", "out_wmant"):
            got[k] = _per_file_synapse(vec, emu.data[k[4:]], vec.syn[k[4:]])
        else:  # out_<trace>_syn: the source's (x) or target's (y) trace, -1 for a static synapse
            trace = k[4:-4]
            col = vec.syn["pre"] if trace.startswith("x") else vec.syn["post"]
            got[k] = np.where(vec.syn["plastic"], emu.data[trace][:, col], -1)
    return first_mismatch(vec.expected, got)


def _per_file_synapse(vec: Vector, plastic_rows: np.ndarray, static: np.ndarray) -> np.ndarray:
    """[steps, n_syn] in file order: plastic synapses from the probe, static ones constant."""
    out = np.broadcast_to(static, (vec.steps, static.size)).astype(np.int64)
    m = vec.syn["plastic"]
    out[:, m] = plastic_rows[:, vec.syn["order"][m]]
    return out


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
    for p in (Path(fspath(q, "vector")) for q in paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("*.npz")))
        elif p.exists():
            out.append(p)
        else:
            raise MissingFileError(f"{p}: no such file or folder")
    return out
