"""Flatten the plastic part of a board image into the arrays the learning kernels run over.

* **Rule tables.** Every distinct learning profile of the image (same
  microcode, epoch, rounding and trace settings, on any core) becomes one
  global profile; its microcode is decoded with ``microcode.disassemble``
  into flat integer tables (see :class:`FlatLearning`).
* **Plastic synapses.** One state entry (weight mantissa, delay, tag) per
  plastic synapse of the image, in the *stable synapse order*: by source
  (global source index; synapses on a row that no route reaches come last),
  then global target compartment, then position within the row. The order
  does not depend on how compartments are placed on cores; ``Probe("w")``
  and the stochastic-rounding ids use it. A CSR by source
  (``pl_ptr``) and one by target (``post_ptr``, ``post_idx``) index it.
* **Traces.** x1, x2 belong to sources, y1..y3 to compartments; a source
  takes its x settings from the profiles of its plastic synapses and a
  compartment its y settings from those of the plastic synapses that target
  it. A source or compartment without plastic synapses has its traces off.
  Profiles that disagree about one source's (or compartment's) traces are an
  :class:`~loihi_emu.errors.ImageError`, as is a row of plastic synapses
  that several sources reach (its presynaptic trace would be ambiguous).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import SOURCE_TRACES, TRACES, Image
from loihi_emu.image.plastic import plastic_synapses
from microcode.ir import u_index

VAR_CODES = {"x0": 0, "x1": 1, "x2": 2, "y0": 3, "y1": 4, "y2": 5, "y3": 6, "r0": 7, "r1": 8, "w": 9, "d": 10, "t": 11}
VAR_U = 12  # uK; K in the factor's second column
VAR_CONST = -1
KIND_VAR, KIND_SGN, KIND_CONST = 0, 1, 2
TARGET_INDEX = {"dw": 0, "dd": 1, "dt": 2}
# columns of FlatLearning.prods and .facs
P_MANT, P_SHIFT, P_DEP, P_DEPK, P_FLO, P_FHI = range(6)
F_VAR, F_K, F_KIND, F_CONST = range(4)
# columns of FlatLearning.fmts
M_WEXP, M_PSHIFT, M_WMIN, M_WMAX = range(4)


@dataclass(frozen=True, eq=False)
class FlatLearning:
    """Run-time arrays of the learning engine (all int64 unless noted).

    prof_epoch, prof_round: [G] learning epoch (steps) and rounding (0 det, 1 stochastic).
    prof_prod: [G, 4] products of profile g for target k (0 dw, 1 dd, 2 dt)
    are rows prof_prod[g, k] .. prof_prod[g, k + 1] of ``prods``.
    prods: [n_prod, 6] scale mantissa, shift (scale exponent + frac_bits,
    >= 0), dependency variable code (0 x0, 3 y0, 12 uK), its K, factor rows lo, hi.
    facs: [n_fac, 4] variable code (VAR_CODES, 12 = uK, -1 none), K, kind
    (0 variable + constant, 1 sgn, 2 constant), constant.
    fmts: [F, 4] weight exponent, log2 of the step P, clip min, clip max of the mantissa.
    pl_pre, pl_post, pl_prof, pl_fmt: int32 [P] source (``n_src`` for an unreached
    row), global target, global profile, plastic format of each plastic synapse.
    w0, d0, t0: int32 [P] initial mantissa, delay (steps), tag.
    pl_ptr: [n_src + 2] CSR by source over the plastic synapses.
    post_ptr: [n + 1], post_idx: int32 [P] the plastic synapses of each target.
    x_imp, x_tau: int32 [2, n_src + 1]; y_imp, y_tau: int32 [3, n] trace
    settings (tau 0 = off); x_round: [n_src + 1], y_round: [n] rounding.
    core_pos, core_syn: [P] image position of each plastic synapse (core
    index in ``image.cores``, synapse index in that core's SynapseTable).
    n_slots: ring slots plastic delays need (largest delay + 1; 63 with a dd rule).
    prof_reward: [G, 3] reward axon (-1: none), r1 impulse, r1 tau of each profile (docs/reward.md).
    """

    n: int
    n_src: int
    frac_bits: int
    prof_epoch: np.ndarray
    prof_round: np.ndarray
    prof_prod: np.ndarray
    prods: np.ndarray
    facs: np.ndarray
    fmts: np.ndarray
    pl_pre: np.ndarray
    pl_post: np.ndarray
    pl_prof: np.ndarray
    pl_fmt: np.ndarray
    w0: np.ndarray
    d0: np.ndarray
    t0: np.ndarray
    pl_ptr: np.ndarray
    post_ptr: np.ndarray
    post_idx: np.ndarray
    x_imp: np.ndarray
    x_tau: np.ndarray
    x_round: np.ndarray
    y_imp: np.ndarray
    y_tau: np.ndarray
    y_round: np.ndarray
    core_pos: np.ndarray
    core_syn: np.ndarray
    n_slots: int
    stochastic: bool
    prof_reward: np.ndarray | None = None

    @property
    def n_plastic(self) -> int:
        return self.pl_post.size


NEVER = -(1 << 62)  # arrival step of a source that has not spiked yet
SYNAPSE_RECORD = np.dtype([("pre", np.int32), ("post", np.int32), ("prof", np.int16), ("fmt", np.int16),
                           ("w", np.int16), ("d", np.int8), ("tg", np.int8)])
"""Per plastic synapse, 16 bytes: source, target, global profile, plastic format, weight mantissa
(-256..255), delay (0..62 steps), tag (8-bit signed)."""


class LearningArrays(NamedTuple):
    """Everything the learning kernels read and write, built once at load and passed whole.

    Constants: n_in external inputs (source ``n_in + g`` is compartment g);
    frac_bits (F, products in units of 2^-F); max_delay (steps); tag_lo,
    tag_hi tag range; trace_max (127).
    Tables (from :class:`FlatLearning`): prof_epoch, prof_round, prof_prod,
    prods, facs, fmts, pl_ptr, post_ptr, post_idx, x_tau, x_round, y_tau,
    y_round; x_imp, y_imp are the impulses with off traces (tau 0) set to 0.
    Plastic synapses, int [P] views into one :data:`SYNAPSE_RECORD` per
    synapse (stable order): pre, post, prof, fmt (static) and w (mantissa),
    d (delay, steps), tg (tag), changed by the rule.
    State: x_tr int32 [2, n_src + 1] (x1, x2), y_tr int32 [3, n] (y1..y3);
    x_last int64 [n_src + 1], y_last int64 [n] step of the latest arrival
    (NEVER before the first); todo int64 [P] scratch of the rule kernel.
    r_val: int64 [G, 2] this step's r0 (reward arrived in the epoch) and r1
    (reward trace) of each profile, set by the engine before the rule (docs/reward.md).
    Draw ids (the ``id`` of :mod:`loihi_emu.learning.random`): x_id int64
    [n_src + 1] per source row, y_id int64 [n] per compartment, syn_id int64 [P]
    per plastic synapse; ``arange`` here (global = local numbering), the
    global ids on an MPI rank (:mod:`loihi_emu.runtime.distributed`).
    Statistics: n_eval int64 [1] plastic synapses the rule stage has
    evaluated so far (numba: the ones it visits; numpy: every due synapse).
    Scratch of the numba rule stage (:mod:`loihi_emu.learning.factored`): fa int64
    [n_src + 1, n_prod] source part, fb int64 [n, n_prod] target part of each product;
    post_c int32 [P] the targets again, contiguous (4 bytes a synapse for the rule's scan).
    """

    n_in: int
    frac_bits: int
    max_delay: int
    tag_lo: int
    tag_hi: int
    trace_max: int
    prof_epoch: np.ndarray
    prof_round: np.ndarray
    prof_prod: np.ndarray
    prods: np.ndarray
    facs: np.ndarray
    fmts: np.ndarray
    pl_ptr: np.ndarray
    post_ptr: np.ndarray
    post_idx: np.ndarray
    x_imp: np.ndarray
    x_tau: np.ndarray
    x_round: np.ndarray
    y_imp: np.ndarray
    y_tau: np.ndarray
    y_round: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    prof: np.ndarray
    fmt: np.ndarray
    w: np.ndarray
    d: np.ndarray
    tg: np.ndarray
    x_tr: np.ndarray
    y_tr: np.ndarray
    x_last: np.ndarray
    y_last: np.ndarray
    todo: np.ndarray
    r_val: np.ndarray
    x_id: np.ndarray
    y_id: np.ndarray
    syn_id: np.ndarray
    n_eval: np.ndarray
    fa: np.ndarray
    fb: np.ndarray
    post_c: np.ndarray


def learning_arrays(f: FlatLearning, spec: HardwareSpec) -> LearningArrays:
    """The learning kernels' struct over ``f``, with the initial synapse state and zero traces."""
    # One record per plastic synapse: the rule reaches synapses in target
    # order while they are stored in source order, so keeping a synapse's
    # fields side by side costs one cache miss per visit instead of seven.
    rec = np.empty(f.n_plastic, SYNAPSE_RECORD)
    for field, hi in (("prof", f.prof_epoch.size), ("fmt", f.fmts.shape[0])):
        if hi > np.iinfo(np.int16).max:
            raise ImageError(f"{hi} distinct plastic {field}s in one image; the emulator holds at most 32767")
    for name, arr in (("pre", f.pl_pre), ("post", f.pl_post), ("prof", f.pl_prof), ("fmt", f.pl_fmt),
                      ("w", f.w0), ("d", f.d0), ("tg", f.t0)):
        rec[name] = arr
    tag_lo, tag_hi = spec.tag_range
    return LearningArrays(
        n_in=f.n_src - f.n, frac_bits=f.frac_bits, max_delay=spec.max_delay, tag_lo=tag_lo, tag_hi=tag_hi,
        trace_max=spec.trace_max, prof_epoch=f.prof_epoch, prof_round=f.prof_round, prof_prod=f.prof_prod,
        prods=f.prods, facs=f.facs, fmts=f.fmts, pl_ptr=f.pl_ptr, post_ptr=f.post_ptr, post_idx=f.post_idx,
        x_imp=np.where(f.x_tau > 0, f.x_imp, 0).astype(np.int32), x_tau=f.x_tau, x_round=f.x_round,
        y_imp=np.where(f.y_tau > 0, f.y_imp, 0).astype(np.int32), y_tau=f.y_tau, y_round=f.y_round,
        pre=rec["pre"], post=rec["post"], prof=rec["prof"], fmt=rec["fmt"], w=rec["w"], d=rec["d"], tg=rec["tg"],
        x_tr=np.zeros((2, f.n_src + 1), np.int32), y_tr=np.zeros((3, f.n), np.int32),
        x_last=np.full(f.n_src + 1, NEVER, np.int64), y_last=np.full(f.n, NEVER, np.int64),
        todo=np.zeros(f.n_plastic, np.int64), r_val=np.zeros((f.prof_epoch.size, 2), np.int64),
        x_id=np.arange(f.n_src + 1, dtype=np.int64),
        y_id=np.arange(f.n, dtype=np.int64), syn_id=np.arange(f.n_plastic, dtype=np.int64),
        n_eval=np.zeros(1, np.int64), fa=np.zeros((f.n_src + 1, f.prods.shape[0]), np.int64),
        fb=np.zeros((f.n, f.prods.shape[0]), np.int64), post_c=np.ascontiguousarray(f.pl_post, np.int32),
    )


def rule_tables(programs: list, spec: HardwareSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Flat (prof_prod, prods, facs, has_dd) of decoded ``microcode.Program`` s."""

    frac = spec.learning_frac_bits
    prof_prod = np.zeros((len(programs), 4), np.int64)
    prods: list[list[int]] = []
    facs: list[list[int]] = []
    has_dd = False
    for g, prog in enumerate(programs):
        for target, k in TARGET_INDEX.items():
            prof_prod[g, k] = len(prods)
            rule = prog.rule(target)
            if rule is None:
                continue
            has_dd |= target == "dd" and bool(rule.products)
            for p in rule.products:
                dep = next(f for f in p.factors if f.is_dependency)  # the checker guarantees one
                k_dep = u_index(dep.variable)
                row = [p.scale_mant, p.scale_exp + frac, VAR_U if k_dep is not None else VAR_CODES[dep.variable],
                       k_dep or 0, len(facs), len(facs) + len(p.factors)]
                for f in p.factors:
                    k_f = u_index(f.variable)
                    var = VAR_CONST if f.variable is None else (VAR_U if k_f is not None else VAR_CODES[f.variable])
                    kind = {"var": KIND_VAR, "bracket": KIND_VAR, "sgn": KIND_SGN, "const": KIND_CONST}[f.kind]
                    facs.append([var, k_f or 0, kind, f.constant])
                prods.append(row)
        prof_prod[g, 3] = len(prods)
    return (prof_prod, np.array(prods, np.int64).reshape(-1, 6), np.array(facs, np.int64).reshape(-1, 4), has_dd)


def _first_conflict(key: np.ndarray, order: np.ndarray, ptr: np.ndarray, owner: np.ndarray) -> int:
    """Index (into ``order``) of the first entry whose key differs from its group's first, or -1."""
    if order.size == 0:
        return -1
    k = key[order]
    first = k[ptr[owner[order]]]
    bad = (k != first).any(axis=1)
    return int(np.flatnonzero(bad)[0]) if bad.any() else -1


def flatten_learning(image: Image) -> FlatLearning | None:
    """The learning engine's arrays for ``image``, or None when no synapse is plastic."""
    spec, cores = image.spec, image.cores
    n, n_in = image.n_compartments, image.n_inputs
    n_src = n_in + n
    if not any(c.formats.n and c.formats.plastic.any() for c in cores):
        return None
    # global profiles and plastic formats, deduplicated across cores
    prof_ids: dict[tuple, int] = {}
    programs, prof_rows, prof_reward = [], [], []
    fmt_ids: dict[tuple[int, int, int, int], int] = {}
    core_maps: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k, c in enumerate(cores):
        lt, ft = c.learning, c.formats
        gprof = np.full(lt.n, -1, np.int64)
        for i in range(lt.n):
            key = (lt.microcode(i), int(lt.epoch[i]), int(lt.rounding[i]), lt.trace_settings(i),
                   lt.reward_settings(i))
            if key not in prof_ids:
                prof_ids[key] = len(programs)
                programs.append(lt.program(i))
                prof_reward.append(lt.reward_settings(i))
                prof_rows.append((int(lt.epoch[i]), int(lt.rounding[i])) + lt.trace_settings(i))
            gprof[i] = prof_ids[key]
            if not -1 <= int(lt.reward_axon[i]) < n_in:
                raise ImageError(f"{c.label}LearningProfileTable.reward_axon[{i}] = {int(lt.reward_axon[i])}: the image "
                                 f"has external input axons 0..{n_in - 1} (-1 = no reward)")
        if not ft.n or not ft.plastic.any():
            continue
        gfmt = np.full(ft.n, -1, np.int64)
        pshift = ft.step_shift()
        for f in np.flatnonzero(ft.plastic):
            lo, hi = spec.plastic_mantissa_range(int(ft.sign_mode[f]))
            key4 = (int(ft.weight_exp[f]), int(pshift[f]), lo, hi)
            gfmt[f] = fmt_ids.setdefault(key4, len(fmt_ids))
        core_maps[k] = (gprof, gfmt)
    ps = plastic_synapses(image)
    pre, post = ps.pre, ps.post
    pl: dict[str, np.ndarray] = {"core": ps.core, "syn": ps.syn}
    for key in ("prof", "fmt", "w", "d", "t"):
        pl[key] = np.zeros(ps.n, np.int64)
    by_core = np.argsort(ps.core, kind="stable")
    bounds = np.searchsorted(ps.core[by_core], np.arange(len(cores) + 1))
    for k, (gprof, gfmt) in core_maps.items():
        sel = by_core[bounds[k] : bounds[k + 1]]
        st, ft = cores[k].synapses, cores[k].formats
        j = ps.syn[sel]
        fmt = st.fmt[j].astype(np.intp)
        pl["prof"][sel] = gprof[ft.learning_profile[fmt].astype(np.intp)]
        pl["fmt"][sel] = gfmt[fmt]
        pl["w"][sel], pl["d"][sel], pl["t"][sel] = st.wmant[j], st.delay[j], st.tag[j]
    pl_ptr = np.searchsorted(pre, np.arange(n_src + 2)).astype(np.int64)
    post_idx = np.argsort(post, kind="stable").astype(np.int64)
    post_ptr = np.searchsorted(post[post_idx], np.arange(n + 1)).astype(np.int64)

    rows_arr = np.array(prof_rows, np.int64)  # [G, 2 + 10]: epoch, rounding, (imp, tau) x 5
    tr = {name: rows_arr[:, 2 + 2 * i : 4 + 2 * i] for i, name in enumerate(TRACES)}
    x_key = np.concatenate([tr["x1"], tr["x2"], rows_arr[:, 1:2]], axis=1)[pl["prof"]]
    y_key = np.concatenate([tr["y1"], tr["y2"], tr["y3"], rows_arr[:, 1:2]], axis=1)[pl["prof"]]
    for what, key, idx, ptr, owner in (("source", x_key, np.arange(pre.size), pl_ptr, pre),
                                       ("compartment", y_key, post_idx, post_ptr, post)):
        bad = _first_conflict(key, idx, ptr, owner)
        if bad >= 0:
            j = int(idx[bad])
            who = int(owner[j])
            name = (f"input {who}" if who < n_in else f"compartment {who - n_in}") if what == "source" else f"compartment {who}"
            raise ImageError(
                f"{cores[int(pl['core'][j])].label}plastic synapses of {name} follow learning profiles with different "
                f"{'x' if what == 'source' else 'y'} trace settings or rounding; one {what} has one set of traces"
            )
    x_imp = np.zeros((2, n_src + 1), np.int32)
    x_tau = np.zeros((2, n_src + 1), np.int32)
    x_round = np.zeros(n_src + 1, np.uint8)
    first = pl_ptr[:-1][np.diff(pl_ptr) > 0]
    src_has = pre[first]
    for i, name in enumerate(SOURCE_TRACES):
        x_imp[i, src_has] = tr[name][pl["prof"][first], 0]
        x_tau[i, src_has] = tr[name][pl["prof"][first], 1]
    x_round[src_has] = rows_arr[pl["prof"][first], 1]
    x_imp[:, n_src] = x_tau[:, n_src] = 0  # unreached rows see no presynaptic trace
    y_imp = np.zeros((3, n), np.int32)
    y_tau = np.zeros((3, n), np.int32)
    y_round = np.zeros(n, np.uint8)
    firsty = post_idx[post_ptr[:-1][np.diff(post_ptr) > 0]]
    comp_has = post[firsty]
    for i, name in enumerate(("y1", "y2", "y3")):
        y_imp[i, comp_has] = tr[name][pl["prof"][firsty], 0]
        y_tau[i, comp_has] = tr[name][pl["prof"][firsty], 1]
    y_round[comp_has] = rows_arr[pl["prof"][firsty], 1]

    prof_prod, prods, facs, has_dd = rule_tables(programs, spec)
    fmts = np.array(sorted(fmt_ids, key=fmt_ids.get), np.int64).reshape(-1, 4)
    n_slots = (spec.max_delay if has_dd else int(pl["d"].max())) + 1
    return FlatLearning(
        n=n, n_src=n_src, frac_bits=spec.learning_frac_bits,
        prof_epoch=rows_arr[:, 0].copy(), prof_round=rows_arr[:, 1].copy(), prof_prod=prof_prod, prods=prods,
        facs=facs, fmts=fmts, pl_pre=pre.astype(np.int32), pl_post=post.astype(np.int32),
        pl_prof=pl["prof"].astype(np.int32), pl_fmt=pl["fmt"].astype(np.int32),
        w0=pl["w"].astype(np.int32), d0=pl["d"].astype(np.int32), t0=pl["t"].astype(np.int32),
        pl_ptr=pl_ptr, post_ptr=post_ptr, post_idx=post_idx.astype(np.int32), x_imp=x_imp, x_tau=x_tau, x_round=x_round,
        y_imp=y_imp, y_tau=y_tau, y_round=y_round, core_pos=pl["core"], core_syn=pl["syn"], n_slots=n_slots,
        stochastic=bool((rows_arr[:, 1] != 0).any()), prof_reward=np.array(prof_reward, np.int64).reshape(-1, 3),
    )
