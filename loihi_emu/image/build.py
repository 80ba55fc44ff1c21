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

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.core import (
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
COMPARTMENT_FIELDS = ("decay_u_reg", "decay_v", "vth_mant", "bias_mant", "bias_exp", "refract", "vmin", "vmax")


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


def _sort_rows(row_key: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order synapses by row key, then by local target (stable); return
    (order, the distinct row keys ascending, each sorted synapse's row number).

    One stable argsort of a combined int64 key when it cannot overflow
    (several times faster than ``np.lexsort`` on millions of synapses).
    """
    if row_key.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    span = int(target.max()) + 1
    if int(row_key.max()) < (np.iinfo(np.int64).max - span) // span:
        order = np.argsort(row_key * span + target, kind="stable")
    else:
        order = np.lexsort((target, row_key))
    keys = row_key[order]
    new_row = np.empty(keys.size, bool)
    new_row[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_row[1:])
    return order, keys[new_row], np.cumsum(new_row) - 1


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
    """Lower global register arrays onto cores.

    compartments: the eight CUBA register arrays of
        :data:`COMPARTMENT_FIELDS`, each [n] (scalars broadcast).
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
    """
    if not isinstance(compartments, Mapping):
        raise ImageError(f"compartments must map register names to arrays, got {type(compartments).__name__}")
    keys = set(compartments)
    if keys != set(COMPARTMENT_FIELDS):
        unknown, missing = sorted(map(str, keys - set(COMPARTMENT_FIELDS))), sorted(set(COMPARTMENT_FIELDS) - keys)
        raise ImageError(f"compartment registers: unknown {unknown}, missing {missing}; "
                         f"expected exactly {list(COMPARTMENT_FIELDS)}")
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
    syn_pre = np.asarray(syn_pre)
    if syn_pre.ndim != 1 or (syn_pre.size and syn_pre.dtype.kind not in "iu"):
        raise ImageError(f"syn_pre: expected 1-D integer sources, got {syn_pre.dtype} {syn_pre.shape}")
    syn_pre = syn_pre.astype(np.int64, copy=False)
    m = syn_pre.size
    n_prof = len(learning_profiles)
    post = _int_array("syn_post", syn_post, m)
    # narrow fields: range-checked, int16 (mantissa, delay and tag ranges are the tables' to check)
    wmant = _small_field("syn_wmant", syn_wmant, m, -(1 << 15), (1 << 15) - 1)
    wexp = _small_field("syn_wexp", syn_wexp, m, spec.weight_exp_min, spec.weight_exp_max)
    delay = _small_field("syn_delay", syn_delay, m, -(1 << 15), (1 << 15) - 1)
    sign = _small_field("syn_sign_mode", syn_sign_mode, m, 1, 3)
    tag = _small_field("syn_tag", syn_tag, m, -(1 << 15), (1 << 15) - 1)
    lprof = _small_field("syn_learning", syn_learning, m, -1, n_prof - 1)
    if syn_weight_bits is None:
        wbits = np.where(sign == SIGN_MIXED, spec.max_weight_bits, spec.max_weight_bits - 1).astype(np.int16)
    else:
        wbits = _small_field("syn_weight_bits", syn_weight_bits, m, 1, spec.max_weight_bits)
    if n and core_of.min() < 0:
        raise ImageError(f"core_of[{int(np.argmin(core_of))}] is negative")
    n_src = n_in + n
    for name, arr, hi in (("syn_pre", syn_pre, n_src - 1), ("syn_post", post, n - 1)):
        bad = (arr < 0) | (arr > hi)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ImageError(f"{name}[{i}] = {int(arr[i])} is outside 0..{hi}")

    # local index of each compartment within its core
    cores_used, comp_core = np.unique(core_of, return_inverse=True)
    comp_core = comp_core.ravel()
    order = np.argsort(comp_core, kind="stable")
    comp_start = np.searchsorted(comp_core[order], np.arange(cores_used.size + 1))
    local = np.empty(n, np.int64)
    local[order] = np.arange(n) - comp_start[comp_core[order]]

    # rows: distinct (target core, source) pairs, sorted
    syn_core = comp_core[post] if m else np.zeros(0, np.int64)
    row_key = syn_core * n_src + syn_pre
    syn_order, rows, syn_row_sorted = _sort_rows(row_key, local[post])
    row_core, row_src = rows // n_src, rows % n_src
    row_start = np.searchsorted(row_core, np.arange(cores_used.size + 1))
    syn_row_ptr = np.searchsorted(syn_row_sorted, np.arange(rows.size + 1))
    # the format fields were range-checked above, so this key cannot alias
    fmt_key = (((lprof.astype(np.int64) + 1) * 16 + wexp - spec.weight_exp_min) * 16 + wbits) * 4 + sign

    # output routes: every row is one route from its source
    route_order = np.lexsort((row_core, row_src))
    r_src, r_core = row_src[route_order], row_core[route_order]
    r_axon = (np.arange(rows.size) - row_start[row_core])[route_order]
    r_chip_g = cores_used[r_core]
    cpc = spec.cores_per_chip

    def routes_for(src_ids: np.ndarray, where: str) -> RouteTable:
        lo = np.searchsorted(r_src, src_ids, side="left")
        hi = np.searchsorted(r_src, src_ids, side="right")
        counts = hi - lo
        ptr = np.concatenate([[0], np.cumsum(counts)])
        idx = np.repeat(lo - ptr[:-1], counts) + np.arange(ptr[-1])
        g = r_chip_g[idx]
        return RouteTable(ptr, g // cpc, g % cpc, r_axon[idx], where=where, spec=spec)

    cores = []
    for k, g in enumerate(cores_used):
        chip, index = int(g // cpc), int(g % cpc)
        where = f"chip {chip} core {index}: "
        members = order[comp_start[k] : comp_start[k + 1]]  # global ids, ascending
        ctab = CompartmentTable(**{f: regs[f][members] for f in COMPARTMENT_FIELDS}, global_index=members, where=where, spec=spec)
        s_lo, s_hi = syn_row_ptr[row_start[k]], syn_row_ptr[row_start[k + 1]]
        sel = syn_order[s_lo:s_hi]
        keys, fmt = np.unique(fmt_key[sel], return_inverse=True)
        sign_u, wbits_u = keys % 4, (keys // 4) % 16
        wexp_u = (keys // 64) % 16 + spec.weight_exp_min
        prof_u = keys // 1024 - 1  # global learning profile, -1 = not plastic
        used = np.unique(prof_u[prof_u >= 0])
        local_prof = np.where(prof_u >= 0, np.searchsorted(used, prof_u), -1)
        ltab = learning_table([learning_profiles[int(g)] for g in used], where=where, spec=spec)
        ftab = SynapseFormatTable(wbits_u, wexp_u, sign_u, local_prof, where=where, spec=spec)
        axon_ptr = syn_row_ptr[row_start[k] : row_start[k + 1] + 1] - s_lo
        stab = SynapseTable(axon_ptr, local[post[sel]], wmant[sel], fmt.ravel(), delay[sel], tag[sel],
                            where=where, spec=spec)
        rtab = routes_for(n_in + members, where)
        cores.append(Core(chip, index, ctab, ftab, stab, rtab, ltab))
    inputs = routes_for(np.arange(n_in), "inputs: ")
    return Image(tuple(cores), inputs, spec)
