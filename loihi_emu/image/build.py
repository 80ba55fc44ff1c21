"""Build a board image from flat, globally numbered register arrays.

This is the register-level way into an image: one entry per compartment (in
global order) and one per synapse, with a core assignment. The vector loader,
the demo and the tests use it; the compiler emits the same tables from its
placement. Sources follow the vector convention: source ``i < n_in`` is
external input axon ``i``, source ``n_in + g`` is compartment ``g``.

Each core gets one input axon per distinct source that targets it (ascending
source order), one synapse format per distinct (weight bits, weight exponent,
sign mode, learning profile) among its synapses, one learning-profile row per
distinct profile its plastic synapses follow (ascending profile order), and
each source one output route per core it reaches (ascending core order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.core import (
    NOISE_FIELDS,
    REGISTERS,
    SIGN_MIXED,
    CompartmentTable,
    Core,
    Image,
    RouteTable,
    SynapseFormatTable,
    SynapseTable,
)
from loihi_emu.image.profiles import LearningProfile, learning_table

MAX_GLOBAL_CORES = 1 << 24
"""Largest global core number + 1 that ``core_of`` may use."""
COMPARTMENT_FIELDS = REGISTERS  # the register arrays build_image takes


def _int_array(name: str, value, n: int) -> np.ndarray:
    """``value`` as int64 [n]; a scalar broadcasts."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        raise ImageError(f"{name}: expected shape ({n},), got {arr.shape}")
    if arr.size and arr.dtype.kind not in "iub":
        raise ImageError(f"{name}: expected integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _small_field(name: str, value, n: int, lo: int, hi: int) -> np.ndarray:
    """A narrow per-synapse field as int16 [n], range-checked against ``lo..hi``.

    A scalar becomes a read-only broadcast view (no memory per synapse)."""
    arr = np.asarray(value)
    if arr.ndim == 0 and n == 0:
        return np.zeros(0, np.int16)
    if arr.ndim == 0:
        if arr.dtype.kind not in "iub" or not lo <= int(arr) <= hi:
            raise ImageError(f"{name} = {arr} is outside {lo}..{hi}")
        return np.broadcast_to(arr.astype(np.int16), (n,))
    if arr.shape != (n,):
        raise ImageError(f"{name}: expected shape ({n},), got {arr.shape}")
    if arr.size and arr.dtype.kind not in "iub":
        raise ImageError(f"{name}: expected integers, got dtype {arr.dtype}")
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ImageError(f"{name}[{i}] = {int(arr[i])} is outside {lo}..{hi}")
    return arr.astype(np.int16, copy=False)


def _check_index(name: str, arr: np.ndarray, hi: int) -> None:
    """Raise naming the first entry of ``arr`` outside 0..hi (no per-synapse temporary unless one is)."""
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > hi):
        i = int(np.flatnonzero((arr < 0) | (arr > hi))[0])
        raise ImageError(f"{name}[{i}] = {int(arr[i])} is outside 0..{hi}")


def _index_array(name: str, value, n: int | None = None) -> np.ndarray:
    """An integer index array as given (no widening copy); a scalar broadcasts to ``n``."""
    arr = np.asarray(value)
    if arr.ndim == 0 and n is not None:
        arr = np.broadcast_to(arr, (n,))
    if arr.ndim != 1 or (n is not None and arr.shape != (n,)):
        raise ImageError(f"{name}: expected shape ({n if n is not None else 'm'},), got {arr.shape}")
    if arr.size and arr.dtype.kind not in "iub":
        raise ImageError(f"{name}: expected integers, got dtype {arr.dtype}")
    return arr if arr.size else np.zeros(arr.shape, np.int64)


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(starts[i], stops[i])`` over i."""
    counts = stops - starts
    ends = np.cumsum(counts)
    return np.repeat(starts - (ends - counts), counts) + np.arange(int(ends[-1]) if ends.size else 0)


JOIN_INPUTS = ("join_op", "join_parent")
"""Optional join inputs of build_image / core_tables (global parents; the table stores local offsets)."""


def join_offsets(op: np.ndarray, parent: np.ndarray, core_of: np.ndarray, local: np.ndarray,
                 spec: HardwareSpec) -> np.ndarray:
    """Per compartment: local index of its parent minus its own (0 for a root); ImageError naming a bad one."""
    n = op.size
    kid = np.flatnonzero(op != 0)
    bad_root = np.flatnonzero((op == 0) & (parent != -1))
    if bad_root.size:
        raise ImageError(f"compartment {int(bad_root[0])}: join_parent {int(parent[bad_root[0]])} without a join_op")
    p = parent[kid]
    for bad, why in (((p <= kid) | (p >= n), "must be a later compartment (children before parents)"),
                     ((p < n) & (p > kid) & (core_of[np.clip(p, 0, n - 1)] != core_of[kid]),
                      "must be on the same core")):
        if bad.any():
            i = int(kid[np.argmax(bad)])
            g = int(core_of[i])
            raise ImageError(f"chip {g // spec.cores_per_chip} core {g % spec.cores_per_chip}: compartment {i}: "
                             f"join_parent {int(parent[i])} {why}")
    out = np.zeros(n, np.int64)
    out[kid] = local[p] - local[kid]
    return out


def build_image(
    compartments: Mapping[str, np.ndarray],
    core_of: np.ndarray,
    *,
    n_in: int,
    syn_pre: np.ndarray,
    syn_post: np.ndarray,
    syn_wmant: np.ndarray,
    syn_wexp: np.ndarray | int = 0,
    syn_delay: np.ndarray | int = 0,
    syn_weight_bits: np.ndarray | int | None = None,
    syn_sign_mode: np.ndarray | int = SIGN_MIXED,
    spec: HardwareSpec = LOIHI1,
    syn_tag: np.ndarray | int = 0,
    syn_learning: np.ndarray | int = -1,
    learning_profiles: Sequence[LearningProfile] = (),
) -> Image:
    """Lower global register arrays onto cores (:func:`core_tables`, then :func:`finish_image`).

    compartments: the eight CUBA register arrays of
        :data:`COMPARTMENT_FIELDS`, each [n] (scalars broadcast), and
        optionally the noise fields ``noise_mode``, ``noise_exp``,
        ``noise_offset`` (docs/noise.md; absent: no noise), and the join
        fields ``join_op`` (0 root, 1 add, 2 block, 3 pass, 4 or, 5 and) and
        ``join_parent`` (global index of the parent, -1 for a root; it must be
        on the same core and after the child; docs/dendrites.md).
    core_of: [n] global core number of each compartment; global core ``g``
        is chip ``g // spec.cores_per_chip``, core ``g % spec.cores_per_chip``.
        Within a core, compartments keep ascending global order.
    syn_*: [n_syn] per synapse: source, target compartment, weight mantissa,
        weight exponent, delay in steps, weight bits (default: all 9 bits for
        mixed formats, 8 otherwise) and sign mode (1 mixed, 2 exc, 3 inh);
        tag (learning variable ``t``, default 0); learning: index into
        ``learning_profiles`` of the profile a plastic synapse follows, -1
        (default) for a non-plastic one. A plastic synapse's weight bits set
        its learning step P; its effective weight keeps every mantissa bit.

    Memory: the synapses are visited core by core through a CSR by target
    (no copy when ``syn_post`` is already non-decreasing, as the compiler's
    is; else one int64 order per synapse), so besides the image only
    per-core temporaries and one source per input axon exist. Source and
    target arrays are used in their own integer dtype (int32 is enough).
    """
    laid = core_tables(compartments, core_of, n_in=n_in, syn_pre=syn_pre, syn_post=syn_post, syn_wmant=syn_wmant,
                       syn_wexp=syn_wexp, syn_delay=syn_delay, syn_weight_bits=syn_weight_bits,
                       syn_sign_mode=syn_sign_mode, spec=spec, syn_tag=syn_tag, syn_learning=syn_learning,
                       learning_profiles=learning_profiles)
    return finish_image(laid)


@dataclass(eq=False)
class LaidOut:
    """Cores with every table but their routes, and the sources of each core's input axons.

    cores: per core [chip, index, compartments, formats, synapses, learning];
    rows: per core, the source of each input axon (ascending); n_in, n_src, spec.
    """

    cores: list
    rows: list
    n_in: int
    n_src: int
    spec: HardwareSpec


def core_tables(
    compartments: Mapping[str, np.ndarray],
    core_of: np.ndarray,
    *,
    n_in: int,
    syn_pre: np.ndarray,
    syn_post: np.ndarray,
    syn_wmant: np.ndarray,
    syn_wexp: np.ndarray | int = 0,
    syn_delay: np.ndarray | int = 0,
    syn_weight_bits: np.ndarray | int | None = None,
    syn_sign_mode: np.ndarray | int = SIGN_MIXED,
    spec: HardwareSpec = LOIHI1,
    syn_tag: np.ndarray | int = 0,
    syn_learning: np.ndarray | int = -1,
    learning_profiles: Sequence[LearningProfile] = (),
) -> LaidOut:
    """The first stage of :func:`build_image` (same arguments): every core's tables but the routes.

    Nothing of the per-synapse arguments is kept, so a caller that drops them
    before :func:`finish_image` frees their memory before the routes exist.
    """
    if not isinstance(compartments, Mapping):
        raise ImageError(f"compartments must map register names to arrays, got {type(compartments).__name__}")
    keys = set(compartments)
    allowed = set(COMPARTMENT_FIELDS) | set(NOISE_FIELDS) | set(JOIN_INPUTS)
    if not set(COMPARTMENT_FIELDS) <= keys <= allowed:
        unknown, missing = sorted(map(str, keys - allowed)), sorted(set(COMPARTMENT_FIELDS) - keys)
        raise ImageError(f"compartment registers: unknown {unknown}, missing {missing}; "
                         f"expected {list(COMPARTMENT_FIELDS)} and optionally {list(NOISE_FIELDS + JOIN_INPUTS)}")
    if isinstance(n_in, bool) or not isinstance(n_in, (int, np.integer)) or n_in < 0:
        raise ImageError(f"n_in = {n_in!r} must be a whole number >= 0")
    n_in = int(n_in)
    core_of = np.asarray(core_of)
    if core_of.ndim != 1 or (core_of.size and core_of.dtype.kind not in "iu"):
        raise ImageError(f"core_of: expected 1-D integer core numbers, got {core_of.dtype} {core_of.shape}")
    core_of = core_of.astype(np.int64)
    n = core_of.size
    if n and core_of.max() >= MAX_GLOBAL_CORES:
        raise ImageError(f"core_of[{int(np.argmax(core_of))}] = {int(core_of.max())} is outside 0..{MAX_GLOBAL_CORES - 1}")
    regs = {k: _int_array(k, compartments[k], n) for k in COMPARTMENT_FIELDS}
    regs.update({k: _int_array(k, compartments[k], n) for k in NOISE_FIELDS + JOIN_INPUTS if k in compartments})
    syn_pre = _index_array("syn_pre", syn_pre)
    if syn_pre.size and syn_pre.dtype.kind == "b":
        raise ImageError(f"syn_pre: expected 1-D integer sources, got {syn_pre.dtype} {syn_pre.shape}")
    m = syn_pre.size
    n_prof = len(learning_profiles)
    post = _index_array("syn_post", syn_post, m)
    # narrow fields: range-checked, int16 (mantissa, delay and tag ranges are the tables' to check)
    wmant = _small_field("syn_wmant", syn_wmant, m, -(1 << 15), (1 << 15) - 1)
    wexp = _small_field("syn_wexp", syn_wexp, m, spec.weight_exp_min, spec.weight_exp_max)
    delay = _small_field("syn_delay", syn_delay, m, -(1 << 15), (1 << 15) - 1)
    sign = _small_field("syn_sign_mode", syn_sign_mode, m, 1, 3)
    tag = _small_field("syn_tag", syn_tag, m, -(1 << 15), (1 << 15) - 1)
    lprof = _small_field("syn_learning", syn_learning, m, -1, n_prof - 1)
    wbits = None if syn_weight_bits is None else _small_field("syn_weight_bits", syn_weight_bits, m, 1,
                                                              spec.max_weight_bits)
    if n and core_of.min() < 0:
        raise ImageError(f"core_of[{int(np.argmin(core_of))}] is negative")
    n_src = n_in + n
    _check_index("syn_pre", syn_pre, n_src - 1)
    _check_index("syn_post", post, n - 1)

    # local index of each compartment within its core
    cores_used, comp_core = np.unique(core_of, return_inverse=True)
    comp_core = comp_core.ravel()
    order = np.argsort(comp_core, kind="stable")
    comp_start = np.searchsorted(comp_core[order], np.arange(cores_used.size + 1))
    local = np.empty(n, np.int64)
    local[order] = np.arange(n) - comp_start[comp_core[order]]
    if "join_op" in regs or "join_parent" in regs:
        jop = regs.pop("join_op", np.zeros(n, np.int64))
        regs["join_offset"] = join_offsets(jop, regs.pop("join_parent", np.full(n, -1, np.int64)), core_of, local, spec)
        regs["join_op"] = jop

    # synapses by target: a CSR over compartments (through a stable order unless already sorted)
    by_post = None if m < 2 or bool((post[1:] >= post[:-1]).all()) else np.argsort(post, kind="stable")
    post_ptr = np.zeros(n + 1, np.int64)
    if m:
        np.cumsum(np.bincount(post, minlength=n), out=post_ptr[1:])

    cpc = spec.cores_per_chip
    cores, core_rows = [], []
    src_dtype = np.int32 if n_src < 2**31 else np.int64
    for k, g in enumerate(cores_used):
        chip, index = int(g // cpc), int(g % cpc)
        where = f"chip {chip} core {index}: "
        members = order[comp_start[k] : comp_start[k + 1]]  # global ids, ascending
        ctab = CompartmentTable(**{f: a[members] for f, a in regs.items()}, global_index=members, where=where,
                                spec=spec)
        sel = _ranges(post_ptr[members], post_ptr[members + 1])
        if by_post is not None:
            sel = by_post[sel]
        src = syn_pre[sel].astype(np.int64)
        tgt = local[post[sel]]
        span = int(tgt.max()) + 1 if tgt.size else 1
        within = np.argsort(src * span + tgt, kind="stable")  # rows by source, then by local target
        sel, src, tgt = sel[within], src[within], tgt[within]
        del within
        new_row = np.ones(src.size, bool)
        np.not_equal(src[1:], src[:-1], out=new_row[1:])
        rows = src[new_row]
        axon_ptr = np.append(np.flatnonzero(new_row), src.size)
        s_sign, s_prof = sign[sel], lprof[sel]
        s_bits = (np.where(s_sign == SIGN_MIXED, spec.max_weight_bits, spec.max_weight_bits - 1) if wbits is None
                  else wbits[sel]).astype(np.int64)
        # the format fields were range-checked above, so this key cannot alias
        fmt_key = (((s_prof.astype(np.int64) + 1) * 16 + wexp[sel] - spec.weight_exp_min) * 16 + s_bits) * 4 + s_sign
        keys, fmt = np.unique(fmt_key, return_inverse=True)
        sign_u, wbits_u = keys % 4, (keys // 4) % 16
        wexp_u = (keys // 64) % 16 + spec.weight_exp_min
        prof_u = keys // 1024 - 1  # global learning profile, -1 = not plastic
        used = np.unique(prof_u[prof_u >= 0])
        local_prof = np.where(prof_u >= 0, np.searchsorted(used, prof_u), -1)
        ltab = learning_table([learning_profiles[int(p)] for p in used], where=where, spec=spec)
        ftab = SynapseFormatTable(wbits_u, wexp_u, sign_u, local_prof, where=where, spec=spec)
        stab = SynapseTable(axon_ptr, tgt, wmant[sel], fmt.ravel(), delay[sel], tag[sel], where=where, spec=spec)
        core_rows.append(rows.astype(src_dtype))
        cores.append([chip, index, ctab, ftab, stab, ltab])
    return LaidOut(cores, core_rows, n_in, n_src, spec)


def finish_image(laid: LaidOut) -> Image:
    """The second stage of :func:`build_image`: routes (one per input axon, from its source) and the image.

    Empties ``laid.rows`` as it goes.
    """
    cores, core_rows, n_in, n_src, spec = laid.cores, laid.rows, laid.n_in, laid.n_src, laid.spec
    # output routes: every row is one route from its source; per source ascending by core
    count = np.zeros(n_src, np.int64)
    for rows in core_rows:
        count[rows] += 1  # a core's rows are distinct sources
    rptr = np.zeros(n_src + 1, np.int64)
    np.cumsum(count, out=rptr[1:])
    del count
    cursor = rptr[:-1].copy()
    total = int(rptr[-1])
    r_chip, r_core, r_axon = (np.empty(total, np.int32) for _ in range(3))
    for k, rows in enumerate(core_rows):
        pos = cursor[rows]
        cursor[rows] += 1
        r_chip[pos], r_core[pos] = cores[k][0], cores[k][1]
        r_axon[pos] = np.arange(rows.size)
        core_rows[k] = None
    del cursor

    def routes_for(src_ids: np.ndarray, where: str) -> RouteTable:
        if src_ids.size == 0 or int(src_ids[-1]) - int(src_ids[0]) == src_ids.size - 1:  # a run: views
            a = int(src_ids[0]) if src_ids.size else 0
            lo, hi = rptr[a], rptr[a + src_ids.size]
            return RouteTable(rptr[a : a + src_ids.size + 1] - lo, r_chip[lo:hi], r_core[lo:hi], r_axon[lo:hi],
                              where=where, spec=spec)
        idx = _ranges(rptr[src_ids], rptr[src_ids + 1])
        ptr = np.concatenate([[0], np.cumsum(rptr[src_ids + 1] - rptr[src_ids])])
        return RouteTable(ptr, r_chip[idx], r_core[idx], r_axon[idx], where=where, spec=spec)

    out = []
    for chip, index, ctab, ftab, stab, ltab in cores:
        rtab = routes_for(n_in + ctab.global_index, f"chip {chip} core {index}: ")
        out.append(Core(chip, index, ctab, ftab, stab, rtab, ltab))
    inputs = routes_for(np.arange(n_in), "inputs: ")
    return Image(tuple(out), inputs, spec)
