"""Flatten a board image into the arrays the kernels run over.

The image is laid out like the chip (per core: input-axon rows, output
routes). At load, the route table and the synapse rows are composed into one
CSR *by source* over the whole image: for every source (external input
``i`` or compartment ``n_in + g``), every synapse its spike reaches, with its
*global* target. Cores vanish at run time; only the global numbering stays,
so results cannot depend on how compartments were split over cores.

For ``n_blocks`` threads the synapses are partitioned by target range into
blocks; each block has its own CSR, so threads never write the same ring
entry and the sums are exact integers in any order.

Plastic synapses (their format names a learning profile) are left out of
this static CSR: :mod:`loihi_emu.learning.flat` gives them their own CSR
by source over one state entry per image synapse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import NamedTuple

import numba
import numpy as np

from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import Image, RouteTable
from loihi_emu.image.pages import PageBudget
from loihi_emu.image.weights import shift_exponent
from loihi_emu.runtime.joins import image_join_arrays, join_scratch
from loihi_emu.runtime.kernels import DELAY_FIELD
from loihi_emu.runtime.memory import release_freed_memory  # noqa: F401  (re-exported)
from loihi_emu.runtime.noise import noise_base


@dataclass(frozen=True, eq=False)
class FlatNetwork:
    """Run-time arrays, all in global compartment order.

    keep_u, keep_v: int32 [n] decay keep factors in 1/4096 (4096 - decay).
    vth: int32 [n] threshold in v units (vth_mant << 6). bias: int32 [n]
    (bias_mant << bias_exp). refract: int32 [n] steps. vmin, vmax: int32 [n].
    indptr: int64 [n_blocks, n_in + n + 1]. tgt_delay: uint32 [S]
    (``target << DELAY_FIELD | delay``). weight: int16 [S] in units of 64.
    fanout: int64 [n_in + n] synapses reached per spike of each source.
    chip, core, local: int32 [n] where each global compartment lives.
    noise_mode: uint8 [n] (0 none, 1 into q, 2 into u2); noise_shift: int32
    [n] noise_exp - 7; noise_off: int32 [n] 64 * noise_offset (draw units);
    all three empty when no compartment has noise (docs/noise.md).
    joins: the dendritic join arrays (:func:`loihi_emu.runtime.joins.join_arrays`;
    docs/dendrites.md), {} when every compartment is a root.
    """

    n: int
    n_in: int
    n_slots: int
    keep_u: np.ndarray
    keep_v: np.ndarray
    vth: np.ndarray
    bias: np.ndarray
    refract: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    indptr: np.ndarray
    tgt_delay: np.ndarray
    weight: np.ndarray
    fanout: np.ndarray
    chip: np.ndarray
    core: np.ndarray
    local: np.ndarray
    noise_mode: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))
    noise_shift: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    noise_off: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    joins: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        """Bytes held by the run-time arrays."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))


_NO_NOISE = (np.zeros(0, np.uint8), np.zeros(0, np.int32), np.zeros(1, np.uint64))
_NO_JOIN = (np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int32))


class StepArrays(NamedTuple):
    """Everything the step kernels read and write, built once at load and passed whole.

    A NamedTuple, so numba takes it as one typed argument and ``a.u`` costs
    nothing in a kernel. Static fields are shared with the
    :class:`FlatNetwork`; the state fields change in place every step (the
    Emulator's ``u``, ``v``, ``refractory``, ``spike_counts`` are these
    arrays). n = ``len(u)``, n_in = ``len(src_buf) - n``.

    Constants: n_slots ring slots (largest delay + 1); decay_bits (12: keep
    factors are in 1/4096); q_bits, u_bits magnitude bits of q and u;
    w_shift (6: the ring is in weight units of 64).
    Registers (int32 [n], see FlatNetwork): keep_u, keep_v, vth, bias,
    refract, vmin, vmax. Synapses: indptr int64 [n_blocks, n_in + n + 1],
    tgt_delay uint32 [S], weight int16 [S], fanout int64 [n_in + n].
    State: ring int32 [n_slots * n] (weight units); u, v, cnt (refractory
    counter) int32 [n]; spiked uint8 [n] (this step's spikes); wraps int64
    [3] (q, u, u2 counts); first_wrap int64 [3, 2] (compartment, unwrapped
    value of this step's first wrap, -1 when none); src_buf int64 [n_in + n]
    (this step's sources); spike_counts int64 [n].
    Noise (docs/noise.md; :mod:`loihi_emu.runtime.noise`): has_noise (0: no
    compartment has noise, the other noise fields are then unused and may be
    empty); noise_mode uint8 [n], noise_shift int32 [n], noise_off int32 [n]
    (see FlatNetwork); noise_base uint64 [1] = mix(seed + G).
    Joins (docs/dendrites.md; :mod:`loihi_emu.runtime.joins`): has_joins (0: none, the join fields
    unused, may be empty); FlatNetwork.joins and the scratch of :func:`~loihi_emu.runtime.joins.join_scratch`.
    """

    n_slots: int
    decay_bits: int
    q_bits: int
    u_bits: int
    w_shift: int
    keep_u: np.ndarray
    keep_v: np.ndarray
    vth: np.ndarray
    bias: np.ndarray
    refract: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    indptr: np.ndarray
    tgt_delay: np.ndarray
    weight: np.ndarray
    fanout: np.ndarray
    ring: np.ndarray
    u: np.ndarray
    v: np.ndarray
    cnt: np.ndarray
    spiked: np.ndarray
    wraps: np.ndarray
    first_wrap: np.ndarray
    src_buf: np.ndarray
    spike_counts: np.ndarray
    has_noise: int = 0
    noise_mode: np.ndarray = _NO_NOISE[0]
    noise_shift: np.ndarray = _NO_NOISE[1]
    noise_off: np.ndarray = _NO_NOISE[1]
    noise_base: np.ndarray = _NO_NOISE[2]
    has_joins: int = 0
    join_op: np.ndarray = _NO_JOIN[0]
    join_parent: np.ndarray = _NO_JOIN[1]
    join_nand: np.ndarray = _NO_JOIN[2]
    join_level: np.ndarray = _NO_JOIN[2]
    join_cut: np.ndarray = _NO_JOIN[0]
    join_acc: np.ndarray = _NO_JOIN[1]
    join_hits: np.ndarray = _NO_JOIN[2]
    join_or: np.ndarray = _NO_JOIN[0]


def step_arrays(net: FlatNetwork, spec: HardwareSpec, seed: int = 0) -> StepArrays:
    """The kernels' struct over ``net`` with zeroed state (step 0); ``seed`` keys the noise draws."""
    n = net.n
    noise = {}
    if net.noise_mode.size:
        noise = dict(has_noise=1, noise_mode=net.noise_mode, noise_shift=net.noise_shift, noise_off=net.noise_off,
                     noise_base=noise_base(seed))
    if net.joins:
        noise.update(has_joins=1, **net.joins, **join_scratch(n))
    return StepArrays(**noise,
        n_slots=net.n_slots, decay_bits=spec.decay_bits, q_bits=spec.q_bits, u_bits=spec.u_bits,
        w_shift=spec.weight_shift, keep_u=net.keep_u, keep_v=net.keep_v, vth=net.vth, bias=net.bias,
        refract=net.refract, vmin=net.vmin, vmax=net.vmax, indptr=net.indptr, tgt_delay=net.tgt_delay,
        weight=net.weight, fanout=net.fanout, ring=np.zeros(net.n_slots * n, np.int32), u=np.zeros(n, np.int32),
        v=np.zeros(n, np.int32), cnt=np.zeros(n, np.int32), spiked=np.zeros(n, np.uint8),
        wraps=np.zeros(3, np.int64), first_wrap=np.zeros((3, 2), np.int64),
        src_buf=np.zeros(net.n_in + n, np.int64), spike_counts=np.zeros(n, np.int64),
    )


def effective_weights(wmant: np.ndarray, fmt: np.ndarray, formats, spec: HardwareSpec) -> np.ndarray:
    """Weights in units of 2^weight_shift: ``floor(floor_P(wmant) * 2^wexp)``.

    The format's low mantissa bits are dropped first (arithmetic shift, so a
    mantissa rounds down to a multiple of its step P), then the exponent is
    applied with floor semantics.
    """
    f = fmt.astype(np.intp)
    step = formats.step_shift()[f]
    mant = (wmant.astype(np.int64) >> step) << step
    return shift_exponent(mant, formats.weight_exp[f])


def _row_sources(image: Image, row_off: np.ndarray, src_dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The source of every global row (input axon of a core), -1 for a row no route reaches.

    A row reached by more than one route (never in compiled images) keeps one
    source in ``row_src``; the others are returned as (rows, sources), sorted
    by row. Walks the route tables in batches of cores; when the count of
    placed routes shows that some row was reached twice within a batch, the
    walk is redone exactly.
    """
    n_in, cores = image.n_inputs, image.cores
    groups = [(image.inputs,), *(cores[k0:k1] for k0, k1 in _batches(image))]
    for exact in (False, True):
        pages = PageBudget()
        row_src = np.full(int(row_off[-1]), -1, src_dtype)
        more_rows, more_src, placed = [], [], 0
        for group in groups:
            if group and isinstance(group[0], RouteTable):
                tabs, srcs = [group[0]], [np.arange(n_in)]
            else:
                tabs = [c.routes for c in group]
                srcs = [n_in + c.compartments.global_index for c in group]
            counts = _cat([np.diff(r.ptr) for r in tabs], np.int64)
            routes = SimpleNamespace(**{f: _cat([getattr(r, f) for r in tabs], np.int32)
                                        for f in ("dest_chip", "dest_core", "dest_axon")})
            if routes.dest_axon.size:
                label = "inputs" if tabs[0] is image.inputs else "routes"
                rows = row_off[image.core_positions(routes, label)] + routes.dest_axon
                src = np.repeat(_cat([x.astype(src_dtype) for x in srcs], src_dtype), counts)
                again = row_src[rows] >= 0
                if exact:
                    order = np.argsort(rows, kind="stable")
                    again[order[1:]] |= rows[order[1:]] == rows[order[:-1]]
                if again.any():
                    more_rows.append(rows[again])
                    more_src.append(src[again])
                row_src[rows[~again]] = src[~again]
                placed += int((~again).sum())
            for r in tabs:
                pages.done(*r.arrays().values())
        pages.flush()
        if exact or placed == int(np.count_nonzero(row_src >= 0)):
            break
    rows = _cat(more_rows, np.int64)
    srcs = _cat(more_src, src_dtype)
    order = np.argsort(rows, kind="stable")
    return row_src, rows[order], srcs[order]


BATCH_SYNAPSES = 1 << 16
"""flatten() works on runs of consecutive cores holding about this many synapses at a time."""


def _batches(image: Image) -> list[tuple[int, int]]:
    """Runs [k0, k1) of consecutive cores of about BATCH_SYNAPSES synapses (at least one core each)."""
    out, k0, acc = [], 0, 0
    for k, c in enumerate(image.cores):
        acc += c.synapses.n
        if acc >= BATCH_SYNAPSES:
            out.append((k0, k + 1))
            k0, acc = k + 1, 0
    if k0 < len(image.cores):
        out.append((k0, len(image.cores)))
    return out


def _cat(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype)


class _Batch:
    """The synapses of cores k0..k1-1 side by side, with global targets, rows and format ids."""

    def __init__(self, image: Image, k0: int, k1: int, row_off: np.ndarray, pages: PageBudget) -> None:
        cores = image.cores[k0:k1]
        syn = [c.synapses for c in cores]
        self.cores, self.syn = cores, syn
        n_syn = np.array([s.n for s in syn], np.int64)
        core_of_syn = np.repeat(np.arange(len(cores)), n_syn)
        comp_base = np.concatenate([[0], np.cumsum([c.compartments.n for c in cores])])
        fmt_base = np.concatenate([[0], np.cumsum([c.formats.n for c in cores])])
        g = _cat([c.compartments.global_index for c in cores], np.int64)
        self.row_len = _cat([np.diff(s.axon_ptr) for s in syn], np.int64)
        self.row0 = int(row_off[k0])
        self.row_ptr = np.concatenate([[0], np.cumsum(self.row_len)])
        self.tgt = g[comp_base[:-1][core_of_syn] + _cat([s.target for s in syn], np.uint16)]
        self.fmt = fmt_base[:-1][core_of_syn] + _cat([s.fmt for s in syn], np.uint8)
        del core_of_syn
        self.delay = _cat([s.delay for s in syn], np.uint8)
        plastic = _cat([c.formats.plastic for c in cores], bool)
        self.static = ~plastic[self.fmt] if plastic.any() else None
        self.fmt_step = _cat([c.formats.step_shift() for c in cores], np.int32)
        self.fmt_exp = _cat([c.formats.weight_exp for c in cores], np.int8)
        for c in cores:
            pages.done(*c.synapses.arrays().values(), *c.compartments.arrays().values())

    def max_static_delay(self) -> int:
        d = self.delay if self.static is None else self.delay[self.static]
        return int(d.max()) if d.size else -1

    def edges(self, row_src: np.ndarray, more: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(synapse index in the batch, source) of every static synapse a route reaches."""
        src = np.repeat(row_src[self.row0 : self.row0 + self.row_len.size], self.row_len)
        ok = src >= 0
        if self.static is not None:
            ok &= self.static
        idx = np.flatnonzero(ok)
        src = src[idx]
        lo, hi = np.searchsorted(more[0], (self.row0, self.row0 + self.row_len.size))
        if hi > lo:  # rows reached by further routes: their synapses once more per extra source
            rows = more[0][lo:hi] - self.row0
            counts = self.row_len[rows]
            starts = np.concatenate([[0], np.cumsum(counts)])
            extra = np.repeat(self.row_ptr[rows] - starts[:-1], counts) + np.arange(starts[-1])
            esrc = np.repeat(more[1][lo:hi], counts)
            if self.static is not None:
                keep = self.static[extra]
                extra, esrc = extra[keep], esrc[keep]
            idx, src = np.concatenate([idx, extra]), np.concatenate([src, esrc])
        return idx, src

    def weights(self, idx: np.ndarray, spec: HardwareSpec) -> np.ndarray:
        """Effective weights of synapses ``idx`` (as :func:`effective_weights`)."""
        f = self.fmt[idx]
        step = self.fmt_step[f]
        wmant = _cat([s.wmant for s in self.syn], np.int16)[idx]
        return shift_exponent((wmant.astype(np.int64) >> step) << step, self.fmt_exp[f])


def flatten(image: Image, n_blocks: int = 1, min_slots: int = 1) -> FlatNetwork:
    """Compose routes and synapse rows into per-block source CSRs (see module doc).

    Plastic synapses are skipped. ``min_slots``: ring slots the learning
    engine needs (its largest delay + 1); the ring gets at least that many.

    Memory: besides the result, one int32 (source) per input axon of the
    image and temporaries of one batch of cores (:data:`BATCH_SYNAPSES`) at a
    time. Two passes over the batches: count the synapses of every (block,
    source), then place each batch's synapses at their sources' cursors.
    Within a source, synapses are ordered by core, then by row; the ring sums
    are exact integers, so the order never changes a result. Tables mapped
    from a file give their pages back as they are done (:mod:`loihi_emu.image.pages`).
    """
    spec = image.spec
    cores = image.cores
    n, n_in = image.n_compartments, image.n_inputs
    n_src = n_in + n
    n_blocks = max(1, int(n_blocks))
    src_dtype = np.int32 if n_src < 2**31 else np.int64

    regs = {k: np.zeros(n, np.int32) for k in ("keep_u", "keep_v", "vth", "bias", "refract", "vmin", "vmax")}
    chip_of, core_of, local_of = (np.zeros(n, np.int32) for _ in range(3))
    row_off = np.zeros(len(cores) + 1, np.int64)
    np.cumsum([c.synapses.n_axons for c in cores], out=row_off[1:])
    row_src, *more = _row_sources(image, row_off, src_dtype)

    one = spec.decay_one
    for c in cores:
        t, g = c.compartments, c.compartments.global_index
        regs["keep_u"][g] = one - (t.decay_u_reg + 1)
        regs["keep_v"][g] = one - t.decay_v
        regs["vth"][g] = t.vth_mant << spec.vth_shift
        regs["bias"][g] = t.bias_mant << t.bias_exp
        regs["refract"][g] = t.refract
        regs["vmin"][g] = t.vmin
        regs["vmax"][g] = t.vmax
        chip_of[g], core_of[g], local_of[g] = c.chip, c.index, np.arange(t.n)
    noise = _noise_arrays(image, n, spec)

    batches = _batches(image)
    pages = PageBudget()
    counts = np.zeros(n_blocks * n_src, np.int64)
    max_delay = int(min_slots) - 1
    for k0, k1 in batches:  # pass 1: synapses per (block, source), largest static delay
        b = _Batch(image, k0, k1, row_off, pages)
        max_delay = max(max_delay, b.max_static_delay())
        idx, src = b.edges(row_src, more)
        if idx.size:
            key = _block_key(b.tgt[idx], src, n, n_blocks, n_src)
            if key.size * 8 > counts.size:
                counts += np.bincount(key, minlength=counts.size)
            else:
                np.add.at(counts, key, 1)
        del b, idx, src
    pages.flush()

    per_block = counts.reshape(n_blocks, n_src)
    fanout = per_block.sum(axis=0)
    bstart = np.concatenate([[0], np.cumsum(per_block.sum(axis=1))])
    indptr = np.empty((n_blocks, n_src + 1), np.int64)
    indptr[:, 0] = bstart[:-1]
    np.cumsum(per_block, axis=1, out=indptr[:, 1:])
    indptr[:, 1:] += bstart[:-1, None]
    del counts, per_block
    cursor = indptr[:, :-1].flatten()  # a copy: where the next synapse of each (block, source) goes
    tgt_delay = np.empty(int(bstart[-1]), np.uint32)
    weight = np.empty(int(bstart[-1]), np.int16)
    for k0, k1 in batches:  # pass 2: place every synapse
        b = _Batch(image, k0, k1, row_off, pages)
        idx, src = b.edges(row_src, more)
        if idx.size:
            key = _block_key(b.tgt[idx], src, n, n_blocks, n_src)
            del src
            values = (b.tgt[idx].astype(np.uint32) << DELAY_FIELD) | b.delay[idx]
            place_numba(key, cursor, values, b.weights(idx, spec).astype(np.int16), tgt_delay, weight)
            del key, values
        del b, idx
    pages.flush()
    return FlatNetwork(
        n=n, n_in=n_in, n_slots=max(max_delay, 0) + 1, indptr=indptr, tgt_delay=tgt_delay, weight=weight,
        fanout=fanout, chip=chip_of, core=core_of, local=local_of, **regs, **noise,
        joins=image_join_arrays(image, n),
    )


def _noise_arrays(image: Image, n: int, spec: HardwareSpec) -> dict[str, np.ndarray]:
    """FlatNetwork's noise fields in global order; {} (no noise arrays) when no compartment has noise."""
    if not any(c.compartments.noisy.any() for c in image.cores):
        return {}
    mode, shift, off = np.zeros(n, np.uint8), np.zeros(n, np.int32), np.zeros(n, np.int32)
    for c in image.cores:
        t, g = c.compartments, c.compartments.global_index
        mode[g] = t.noise_mode
        shift[g] = t.noise_exp.astype(np.int32) - spec.noise_frac_bits
        off[g] = t.noise_offset.astype(np.int32) << spec.noise_offset_shift
    return {"noise_mode": mode, "noise_shift": shift, "noise_off": off}


def place_numpy(key: np.ndarray, cursor: np.ndarray, values: np.ndarray, weights: np.ndarray,
                tgt_delay: np.ndarray, weight: np.ndarray) -> None:
    """Write synapse i at ``cursor[key[i]]`` (then advance that cursor), in the order given.

    The numpy twin of :func:`place_numba`: a stable sort by key gives each
    synapse its rank among the earlier ones of its key.
    """
    order = np.argsort(key, kind="stable")
    k = key[order]
    first = np.ones(k.size, bool)
    np.not_equal(k[1:], k[:-1], out=first[1:])
    run = np.flatnonzero(first)
    length = np.diff(np.append(run, k.size))
    pos = np.arange(k.size) - np.repeat(run, length) + cursor[k]
    cursor[k[run]] += length
    tgt_delay[pos] = values[order]
    weight[pos] = weights[order]


@numba.njit(cache=True, nogil=True)
def place_numba(key, cursor, values, weights, tgt_delay, weight):  # pragma: no cover - jitted
    for i in range(key.size):
        p = cursor[key[i]]
        cursor[key[i]] = p + 1
        tgt_delay[p] = values[i]
        weight[p] = weights[i]


def _block_key(tgt: np.ndarray, src: np.ndarray, n: int, n_blocks: int, n_src: int) -> np.ndarray:
    """block * n_src + source of each synapse (block = the target range of one thread)."""
    if n_blocks == 1:
        return src.astype(np.int64)
    return (tgt * n_blocks // max(n, 1)) * n_src + src
