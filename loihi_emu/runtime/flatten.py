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

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import Image
from loihi_emu.image.weights import shift_exponent
from loihi_emu.runtime.kernels import DELAY_FIELD


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

    @property
    def nbytes(self) -> int:
        """Bytes held by the run-time arrays."""
        return sum(a.nbytes for a in vars(self).values() if isinstance(a, np.ndarray))


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


def step_arrays(net: FlatNetwork, spec: HardwareSpec) -> StepArrays:
    """The kernels' struct over ``net`` with zeroed state (step 0)."""
    n = net.n
    return StepArrays(
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



def flatten(image: Image, n_blocks: int = 1, min_slots: int = 1) -> FlatNetwork:
    """Compose routes and synapse rows into per-block source CSRs (see module doc).

    Plastic synapses are skipped. ``min_slots``: ring slots the learning
    engine needs (its largest delay + 1); the ring gets at least that many.
    """
    spec = image.spec
    cores = image.cores
    n, n_in = image.n_compartments, image.n_inputs
    n_src = n_in + n
    n_blocks = max(1, int(n_blocks))

    regs = {k: np.zeros(n, np.int32) for k in ("keep_u", "keep_v", "vth", "bias", "refract", "vmin", "vmax")}
    chip_of, core_of, local_of = (np.zeros(n, np.int32) for _ in range(3))
    row_off = np.zeros(len(cores) + 1, np.int64)
    syn_off = np.zeros(len(cores) + 1, np.int64)
    for k, c in enumerate(cores):
        row_off[k + 1] = row_off[k] + c.synapses.n_axons
        syn_off[k + 1] = syn_off[k] + c.synapses.n
    total_syn = int(syn_off[-1])
    syn_tgt = np.empty(total_syn, np.int64)
    syn_w = np.empty(total_syn, np.int64)
    syn_delay = np.empty(total_syn, np.int64)
    row_ptr = np.empty(int(row_off[-1]) + 1, np.int64)
    row_ptr[-1] = total_syn
    syn_plastic = np.zeros(total_syn, bool)

    one = spec.decay_one
    for k, c in enumerate(cores):
        t, g = c.compartments, c.compartments.global_index
        regs["keep_u"][g] = one - (t.decay_u_reg + 1)
        regs["keep_v"][g] = one - t.decay_v
        regs["vth"][g] = t.vth_mant << spec.vth_shift
        regs["bias"][g] = t.bias_mant << t.bias_exp
        regs["refract"][g] = t.refract
        regs["vmin"][g] = t.vmin
        regs["vmax"][g] = t.vmax
        chip_of[g], core_of[g], local_of[g] = c.chip, c.index, np.arange(t.n)
        s = c.synapses
        lo, hi = syn_off[k], syn_off[k + 1]
        syn_tgt[lo:hi] = g[s.target.astype(np.intp)]
        syn_w[lo:hi] = effective_weights(s.wmant, s.fmt, c.formats, spec)
        syn_delay[lo:hi] = s.delay
        if c.formats.n and c.formats.plastic.any():
            syn_plastic[lo:hi] = c.formats.plastic[s.fmt.astype(np.intp)]
        row_ptr[row_off[k] : row_off[k + 1]] = s.axon_ptr[:-1] + lo

    r_src, r_row = image.route_pairs(row_off)

    # expand every route into the synapses of its row
    counts = row_ptr[r_row + 1] - row_ptr[r_row]
    starts = np.concatenate([[0], np.cumsum(counts)])
    total = int(starts[-1])
    syn_idx = np.repeat(row_ptr[r_row] - starts[:-1], counts) + np.arange(total)
    e_src = np.repeat(r_src, counts)
    if syn_plastic.any():
        static = ~syn_plastic[syn_idx]
        syn_idx, e_src = syn_idx[static], e_src[static]
        syn_delay = np.where(syn_plastic, 0, syn_delay)
    tgt = syn_tgt[syn_idx]
    max_delay = max(int(syn_delay.max()) if total_syn else 0, int(min_slots) - 1)
    tgt_delay = ((tgt << DELAY_FIELD) | syn_delay[syn_idx]).astype(np.uint32)
    weight = syn_w[syn_idx].astype(np.int16)
    del syn_idx

    block = (tgt * n_blocks // max(n, 1)).astype(np.uint8)
    if n_blocks > 1:
        border = np.argsort(block, kind="stable")
        e_src, tgt_delay, weight, block = e_src[border], tgt_delay[border], weight[border], block[border]
    indptr = np.empty((n_blocks, n_src + 1), np.int64)
    bstart = np.searchsorted(block, np.arange(n_blocks + 1))
    for b in range(n_blocks):
        indptr[b] = bstart[b] + np.searchsorted(e_src[bstart[b] : bstart[b + 1]], np.arange(n_src + 1))
    fanout = np.bincount(e_src, minlength=n_src).astype(np.int64)
    return FlatNetwork(
        n=n, n_in=n_in, n_slots=max_delay + 1, indptr=indptr, tgt_delay=tgt_delay, weight=weight,
        fanout=fanout, chip=chip_of, core=core_of, local=local_of, **regs,
    )


def release_freed_memory() -> None:
    """Hand memory freed by the load temporaries back to the OS.

    glibc raises its mmap threshold after large frees, so flattening a big
    image leaves gigabytes of freed heap in the process; ``malloc_trim``
    returns them. A no-op where the C library has no such call.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
