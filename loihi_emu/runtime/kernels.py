"""The emulator's per-step stages, each as a numba kernel and a numpy twin, and the step that orders them.

Every stage takes the run-time arrays as one :class:`~loihi_emu.runtime.flatten.StepArrays`
(``a``) plus the step ``t``. Both versions of a stage must produce the same
bits; ``tests/test_kernels.py`` runs random inputs through both. The numpy
twins read like SEMANTICS.md §1 and are the reference; the numba kernels are
the fast path.

Units: the ring buffer and synaptic weights are in *weight units* of
``2^weight_shift`` (64): a synapse adds ``floor(wmant * 2^wexp)`` to the ring,
and the dendritic accumulator is ``q = ring << weight_shift``. Decay factors
are *keep* factors ``decay_one - d`` (the fraction kept, in 1/4096), so the
current uses ``4096 - (decay_u_reg + 1)`` and the voltage ``4096 - decay_v``.
The ring holds ``n_slots`` slots of ``n`` entries; the input of step ``s``
is in the slot at :func:`ring_offset` ``(s)`` (the one place that says so).

Stage ``update`` (reads and zeroes: the ring slot of step ``t``; reads:
registers, and the noise fields when ``a.has_noise`` (docs/noise.md) and the
joins when ``a.has_joins`` (docs/dendrites.md, :mod:`loihi_emu.runtime.joins`); sets: u, v, refractory counter, spike flags; increments: wrap
counters). Stage ``sources`` (reads: the step's input axons, spike flags;
sets: ``src_buf``; increments: spike counts). Stage ``deliver`` (reads: the
step's sources, synapse CSR; increments: ring slots ``t + 1 + delay``).
:func:`_step` runs them in that order, for every backend.
"""

from __future__ import annotations

import types
from collections.abc import Callable

import numba
import numpy as np

from loihi_emu.runtime.compartments import merge_wraps, update_plain, update_range
from loihi_emu.runtime.joins import join_update_numpy, next_cut
from loihi_emu.runtime.noise import noise_key, noise_numpy

WRAP_Q, WRAP_U, WRAP_U2 = 0, 1, 2
WRAP_NAMES = ("q", "u", "u2")
# Run-time layout (not a chip field): a synapse's target and delay share one
# uint32, ``target << DELAY_FIELD | delay``; the field holds delays 0..63.
DELAY_FIELD = 6
DELAY_MASK = (1 << DELAY_FIELD) - 1
_DELAY_FIELD_U, _DELAY_MASK_U = np.uint32(DELAY_FIELD), np.uint32(DELAY_MASK)


# --------------------------------------------------------------------------- #
# the ring-slot formula (used by both backends and by the learning engine)     #
# --------------------------------------------------------------------------- #
@numba.njit(cache=True, inline="always")
def ring_offset(step, n_slots, n):  # pragma: no cover - jitted
    """Ring index of the first entry of the slot holding the input of ``step``."""
    return (step % n_slots) * n


@numba.njit(cache=True, nogil=True)
def slot_base(t, n_slots, n):  # pragma: no cover - jitted
    """int64 [n_slots]: ``slot_base[d]`` is the ring offset of step ``t + 1 + d``, which delay d reaches from step t."""
    out = np.empty(n_slots, np.int64)
    for d in range(n_slots):
        out[d] = ring_offset(t + 1 + d, n_slots, n)
    return out


# --------------------------------------------------------------------------- #
# numpy twins: the rules as SEMANTICS.md writes them                           #
# --------------------------------------------------------------------------- #
def wrap_numpy(x: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap of int64 ``x`` to ``bits`` magnitude bits plus sign."""
    half = np.int64(1) << bits
    return ((x + half) & (2 * half - 1)) - half



def decay_numpy(x: np.ndarray, keep: np.ndarray, shift: int) -> np.ndarray:
    """``sign(x) * ((|x| * keep) >> shift)``: truncation toward zero."""
    return np.sign(x) * ((np.abs(x) * keep) >> shift)


def update_numpy(a, t: int) -> None:
    """Stage ``update`` of step t for every compartment (SEMANTICS.md §1, steps 2-6).

    Reads and zeroes ring slot t (weight units); updates ``a.u``, ``a.v``,
    ``a.cnt`` (refractory counter) in place; sets ``a.spiked``; adds to
    ``a.wraps`` [3] (q, u, u2) and sets ``a.first_wrap`` [3, 2] to the lowest
    compartment index that wrapped this step and its unwrapped value, per
    quantity (index -1 when none did).
    """
    n = a.u.shape[0]
    lo = ring_offset(t, a.n_slots, n)
    acc = a.ring[lo : lo + n]
    q_raw = acc.astype(np.int64) << a.w_shift
    acc[:] = 0
    if a.has_noise:  # docs/noise.md: mode 1 into q, mode 2 into u2
        nz = noise_numpy(a, t)
        q_raw += np.where(a.noise_mode == 1, nz, 0)
    q = wrap_numpy(q_raw, a.q_bits)
    u_raw = decay_numpy(a.u.astype(np.int64), a.keep_u, a.decay_bits) + q
    u_new = wrap_numpy(u_raw, a.u_bits)
    u2_raw = u_new + a.bias
    if a.has_noise:
        u2_raw += np.where(a.noise_mode == 2, nz, 0)
    v_dec = decay_numpy(a.v.astype(np.int64), a.keep_v, a.decay_bits)
    if a.has_joins:  # tree order: leaves first (docs/dendrites.md)
        u2_raw, u2, v_new, spk = join_update_numpy(a, u2_raw, v_dec, lambda x: wrap_numpy(x, a.u_bits), a.vmin, a.vmax)
    else:
        u2 = wrap_numpy(u2_raw, a.u_bits)
        v_new = np.clip(v_dec + u2, a.vmin, a.vmax)
        v_new[a.cnt > 0] = 0
        spk = v_new > a.vth
    v_new[spk] = 0
    cnt_new = np.where(spk, a.refract, a.cnt)
    cnt_new = np.where(cnt_new > 0, cnt_new - 1, 0)
    a.first_wrap[:, 0] = -1
    a.first_wrap[:, 1] = 0
    for k, (raw, wrapped) in enumerate(((q_raw, q), (u_raw, u_new), (u2_raw, u2))):
        hit = np.flatnonzero(raw != wrapped)
        a.wraps[k] += hit.size
        if hit.size:
            a.first_wrap[k, 0] = hit[0]
            a.first_wrap[k, 1] = raw[hit[0]]
    a.u[:] = u_new
    a.v[:] = v_new
    a.cnt[:] = cnt_new
    a.spiked[:] = spk


def sources_numpy(a, in_axons: np.ndarray) -> tuple[int, int]:
    """Stage ``sources``: the step's spike sources into ``a.src_buf[:k]``; returns (k, synaptic events).

    Sources are the input axons ``in_axons`` (int64, ascending), then
    ``n_in + g`` for every compartment g that spiked, ascending; each such g
    counts one spike in ``a.spike_counts``. Events: the synapses they reach.
    """
    n = a.u.shape[0]
    g = np.flatnonzero(a.spiked)
    k0, k = in_axons.shape[0], in_axons.shape[0] + g.size
    a.src_buf[:k0] = in_axons
    a.src_buf[k0:k] = a.src_buf.shape[0] - n + g
    a.spike_counts[g] += 1
    return k, int(a.fanout[a.src_buf[:k]].sum())


def deliver_numpy(a, t: int, src: np.ndarray) -> None:
    """Stage ``deliver``: add the weight of every synapse of every source in ``src`` to its ring slot.

    Uses ``a.indptr`` int64 [T, n_src + 1] (one CSR per target block),
    ``a.tgt_delay`` uint32 [S] (``target << DELAY_FIELD | delay``),
    ``a.weight`` int16 [S] in weight units; delay d reaches step t + 1 + d.
    """
    base = slot_base(t, a.n_slots, a.u.shape[0])
    for b in range(a.indptr.shape[0]):
        for s in src:
            j = np.arange(a.indptr[b, s], a.indptr[b, s + 1])
            td = a.tgt_delay[j].astype(np.int64)
            idx = base[td & DELAY_MASK] + (td >> DELAY_FIELD)
            np.add.at(a.ring, idx, a.weight[j].astype(np.int32))


# --------------------------------------------------------------------------- #
# numba kernels: serial inner loops, composed into stage kernels and one fused  #
# step kernel (one call per step; threads split compartments and targets)       #
# --------------------------------------------------------------------------- #
@numba.njit(cache=True, nogil=True)
def _deliver_block(src, ptr, tgt_delay, weight, ring, slot_base):  # pragma: no cover - jitted
    # Indices are unsigned so numba emits no negative-index wrap-around
    # handling in the inner loop (about 20 % of its time otherwise).
    one = np.uint64(1)
    if slot_base.shape[0] == 1:  # no delays: one ring slot, every delay field is 0
        base = np.uint64(slot_base[0])
        for i in range(src.shape[0]):
            s = np.uint64(src[i])
            for j in range(np.uint64(ptr[s]), np.uint64(ptr[s + one])):
                ring[base + np.uint64(tgt_delay[j] >> _DELAY_FIELD_U)] += weight[j]
        return
    for i in range(src.shape[0]):
        s = np.uint64(src[i])
        for j in range(np.uint64(ptr[s]), np.uint64(ptr[s + one])):
            td = tgt_delay[j]
            ring[np.uint64(slot_base[td & _DELAY_MASK_U]) + np.uint64(td >> _DELAY_FIELD_U)] += weight[j]


# Stage kernels over target blocks: threads split compartments (update) and
# synapse targets (deliver), so no two threads write one ring entry. Each is
# compiled twice (see _twin): serially and with the blocks over numba's threads.
def _update_blocks(a, t):  # pragma: no cover - jitted
    n = a.u.shape[0]
    n_blocks = a.indptr.shape[0]
    lo0 = ring_offset(t, a.n_slots, n)
    acc = a.ring[lo0 : lo0 + n]
    chunk = (n + n_blocks - 1) // n_blocks
    counts = np.zeros((n_blocks, 3), np.int64)
    firsts = np.full((n_blocks, 3, 2), -1, np.int64)
    nkey = noise_key(a.noise_base[0], t)
    for c in numba.prange(n_blocks):
        lo = min(n, c * chunk)
        hi = min(n, lo + chunk)
        if a.has_joins:  # never cut a tree
            lo, hi = next_cut(a.join_cut, lo), next_cut(a.join_cut, hi)
        if a.has_noise or a.has_joins:
            update_range(a, acc, lo, hi, counts[c], firsts[c], nkey)
        else:
            update_plain(a, acc, lo, hi, counts[c], firsts[c])
    merge_wraps(counts, firsts, a.wraps, a.first_wrap)


def _deliver_blocks(a, t, src):  # pragma: no cover - jitted
    base = slot_base(t, a.n_slots, a.u.shape[0])
    indptr, tgt_delay, weight, ring = a.indptr, a.tgt_delay, a.weight, a.ring
    for b in numba.prange(indptr.shape[0]):
        _deliver_block(src, indptr[b], tgt_delay, weight, ring, base)


@numba.njit(cache=True, nogil=True)
def sources_numba(a, in_axons):  # pragma: no cover - jitted
    n = a.u.shape[0]
    n_in = a.src_buf.shape[0] - n
    src_buf, spiked, spike_counts, fanout = a.src_buf, a.spiked, a.spike_counts, a.fanout
    k = 0
    for i in range(in_axons.shape[0]):
        src_buf[k] = in_axons[i]
        k += 1
    for i in range(n):  # branch-free compaction: spikes are random, a branch would mispredict
        f = np.int64(spiked[i])
        src_buf[k] = n_in + i
        spike_counts[i] += f
        k += f
    events = 0
    for i in range(k):
        events += fanout[src_buf[i]]
    return k, events


# The stage names _step calls. Each copy of _step (below) binds them to one
# backend's stages; these module-level names are the numpy twins.
_update, _sources, _deliver = update_numpy, sources_numpy, deliver_numpy


def _step(a, t, in_axons):  # pragma: no cover - jitted on the numba backends
    """One whole step t of ``a`` (the stage order, written only here); returns (k, events).

    The step's sources end up in ``a.src_buf[:k]``: the input axons, then
    ``n_in + g`` for every compartment g that spiked, ascending.
    """
    _update(a, t)
    k, events = _sources(a, in_axons)
    _deliver(a, t, a.src_buf[:k])
    return k, events


def _twin(fn, name: str, **stages):
    """A copy of ``fn`` named ``name`` whose globals bind the stage names in ``stages``.

    Each copy has its own name, so numba's on-disk cache keeps the compilations apart.
    """
    glb = dict(fn.__globals__, **stages)
    out = types.FunctionType(fn.__code__, glb, name, fn.__defaults__, fn.__closure__)
    out.__qualname__ = name
    return out


def _jit(fn, name: str, parallel: bool = False, **stages):
    return numba.njit(cache=True, nogil=True, parallel=parallel)(_twin(fn, name, **stages))


update_numba = _jit(_update_blocks, "update_numba")
deliver_numba = _jit(_deliver_blocks, "deliver_numba")
_update_parallel = _jit(_update_blocks, "_update_parallel", parallel=True)
_deliver_parallel = _jit(_deliver_blocks, "_deliver_parallel", parallel=True)

# The same step three times: plain Python over the numpy twins (the
# reference), compiled serially (one block: no thread-pool start-up, which
# costs more than it gains on small networks and under load), and compiled
# with the blocks spread over numba's threads.
step_numpy = _twin(_step, "step_numpy", _update=update_numpy, _sources=sources_numpy, _deliver=deliver_numpy)
step_numba_serial = _jit(_step, "_step_serial", _update=update_numba, _sources=sources_numba, _deliver=deliver_numba)
step_numba_parallel = _jit(_step, "_step_parallel", _update=_update_parallel, _sources=sources_numba,
                           _deliver=_deliver_parallel)


def step_numba(a, t: int, in_axons: np.ndarray) -> tuple[int, int]:
    """Dispatch to the serial or the parallel step by the number of target blocks."""
    return (step_numba_serial if a.indptr.shape[0] == 1 else step_numba_parallel)(a, t, in_axons)


STEPS = {"numba": step_numba, "numpy": step_numpy}


def step_for(backend: str, a) -> Callable:
    """The step function ``(a, t, in_axons) -> (k, events)`` for ``backend`` and the struct ``a``.

    On numba this is the compiled serial or parallel step for ``a``'s type,
    resolved once here: a call then skips numba's argument typing, which
    for a NamedTuple runs in Python field by field (a few microseconds a
    step). ``in_axons`` must then be a C-contiguous int64 array.
    """
    if backend == "numpy":
        return step_numpy
    fn = step_numba_serial if a.indptr.shape[0] == 1 else step_numba_parallel
    return fn.compile((numba.typeof(a), numba.types.int64, numba.types.int64[::1]))
