"""The emulator's two per-step stages, each as a numba kernel and a numpy twin.

Both versions of a stage have the same signature and must produce the same
bits; ``tests/test_kernels.py`` runs random inputs through both. The numpy
twins read like SEMANTICS.md §1 and are the reference; the numba kernels are
the fast path.

Units: the ring buffer and synaptic weights are in *weight units* of
``2^weight_shift`` (64): a synapse adds ``floor(wmant * 2^wexp)`` to the ring,
and the dendritic accumulator is ``q = ring << weight_shift``. Decay factors
are *keep* factors ``decay_one - d`` (the fraction kept, in 1/4096), so the
current uses ``4096 - (decay_u_reg + 1)`` and the voltage ``4096 - decay_v``.

Stage ``deliver`` (reads: spike sources, synapse CSR; increments: ring slots
``t + 1 + delay``). Stage ``update`` (reads and zeroes: the ring slot of step
``t``; reads: registers; sets: u, v, refractory counter, spike flags;
increments: wrap counters).
"""

from __future__ import annotations

import types

import numba
import numpy as np

WRAP_Q, WRAP_U, WRAP_U2 = 0, 1, 2
WRAP_NAMES = ("q", "u", "u2")
# Run-time layout (not a chip field): a synapse's target and delay share one
# uint32, ``target << DELAY_FIELD | delay``; the field holds delays 0..63.
DELAY_FIELD = 6
DELAY_MASK = (1 << DELAY_FIELD) - 1
_DELAY_FIELD_U, _DELAY_MASK_U = np.uint32(DELAY_FIELD), np.uint32(DELAY_MASK)



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


def deliver_numpy(src, indptr, tgt_delay, weight, ring, slot_base) -> None:
    """Add the weight of every synapse of every source in ``src`` to its ring slot.

    src: int64 [k] spiking sources. indptr: int64 [T, n_src + 1], one CSR per
    target block. tgt_delay: uint32 [S], ``target << DELAY_FIELD | delay``. weight:
    int16 [S] in weight units. ring: int32 [D * n]. slot_base: int64 [D],
    ``slot_base[d]`` is the ring offset of the step that delay ``d`` reaches.
    """
    for t in range(indptr.shape[0]):
        for s in src:
            j = np.arange(indptr[t, s], indptr[t, s + 1])
            td = tgt_delay[j].astype(np.int64)
            idx = slot_base[td & DELAY_MASK] + (td >> DELAY_FIELD)
            np.add.at(ring, idx, weight[j].astype(np.int32))


def update_numpy(
    acc, u, v, cnt, keep_u, keep_v, vth, bias, refract, vmin, vmax,
    spiked, wraps, first_wrap, shift, q_bits, u_bits, w_shift,
) -> None:
    """One CUBA step for every compartment (SEMANTICS.md §1, steps 2-6).

    acc: int32 [n] this step's ring slot in weight units; zeroed here.
    u, v, cnt: int32 [n] state, updated in place (cnt = refractory counter).
    spiked: uint8 [n] out. wraps: int64 [3] wrap counts (q, u, u2), incremented.
    first_wrap: int64 [3, 2] out: lowest compartment index that wrapped this
    step and its unwrapped value, per quantity; index -1 when none did.
    """
    q_raw = acc.astype(np.int64) << w_shift
    acc[:] = 0
    q = wrap_numpy(q_raw, q_bits)
    u_raw = decay_numpy(u.astype(np.int64), keep_u, shift) + q
    u_new = wrap_numpy(u_raw, u_bits)
    u2_raw = u_new + bias
    u2 = wrap_numpy(u2_raw, u_bits)
    v_new = decay_numpy(v.astype(np.int64), keep_v, shift) + u2
    v_new = np.clip(v_new, vmin, vmax)
    v_new[cnt > 0] = 0
    spk = v_new > vth
    v_new[spk] = 0
    cnt_new = np.where(spk, refract, cnt)
    cnt_new = np.where(cnt_new > 0, cnt_new - 1, 0)
    first_wrap[:, 0] = -1
    first_wrap[:, 1] = 0
    for k, (raw, wrapped) in enumerate(((q_raw, q), (u_raw, u_new), (u2_raw, u2))):
        hit = np.flatnonzero(raw != wrapped)
        wraps[k] += hit.size
        if hit.size:
            first_wrap[k, 0] = hit[0]
            first_wrap[k, 1] = raw[hit[0]]
    u[:] = u_new
    v[:] = v_new
    cnt[:] = cnt_new
    spiked[:] = spk


# --------------------------------------------------------------------------- #
# numba kernels: serial inner loops, composed into stage kernels and one fused  #
# step kernel (one call per step; threads split compartments and targets)       #
# --------------------------------------------------------------------------- #
@numba.njit(cache=True, inline="always")
def _wrap(x, bits):  # pragma: no cover - jitted
    half = np.int64(1) << bits
    return ((x + half) & (2 * half - 1)) - half


@numba.njit(cache=True, inline="always")
def _decay(x, keep, shift):  # pragma: no cover - jitted
    if x < 0:
        return -((-x * keep) >> shift)
    return (x * keep) >> shift


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


@numba.njit(cache=True, nogil=True)
def _update_range(
    lo, hi, acc, u, v, cnt, keep_u, keep_v, vth, bias, refract, vmin, vmax,
    spiked, counts, firsts, shift, q_bits, u_bits, w_shift,
):  # pragma: no cover - jitted
    """Compartments lo..hi-1; counts [3] and firsts [3, 2] belong to this range."""
    for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: no wrap-around index checks
        q_raw = np.int64(acc[i]) << w_shift
        acc[i] = 0
        q = _wrap(q_raw, q_bits)
        u_raw = _decay(np.int64(u[i]), np.int64(keep_u[i]), shift) + q
        uu = _wrap(u_raw, u_bits)
        u2_raw = uu + bias[i]
        u2 = _wrap(u2_raw, u_bits)
        vv = _decay(np.int64(v[i]), np.int64(keep_v[i]), shift) + u2
        if vv < vmin[i]:
            vv = vmin[i]
        elif vv > vmax[i]:
            vv = vmax[i]
        r = cnt[i]
        if r > 0:
            vv = 0
        s = vv > vth[i]
        if s:
            vv = 0
            r = refract[i]
        if r > 0:
            r -= 1
        u[i] = uu
        v[i] = vv
        cnt[i] = r
        spiked[i] = s
        if q != q_raw:
            if counts[0] == 0:
                firsts[0, 0] = i
                firsts[0, 1] = q_raw
            counts[0] += 1
        if uu != u_raw:
            if counts[1] == 0:
                firsts[1, 0] = i
                firsts[1, 1] = u_raw
            counts[1] += 1
        if u2 != u2_raw:
            if counts[2] == 0:
                firsts[2, 0] = i
                firsts[2, 1] = u2_raw
            counts[2] += 1


@numba.njit(cache=True, nogil=True)
def _merge_wraps(counts, firsts, wraps, first_wrap):  # pragma: no cover - jitted
    """Add per-chunk wrap counts; keep the lowest-index first wrap per quantity."""
    for k in range(3):
        first_wrap[k, 0] = -1
        first_wrap[k, 1] = 0
        for c in range(counts.shape[0]):
            wraps[k] += counts[c, k]
            if first_wrap[k, 0] < 0 and counts[c, k] > 0:
                first_wrap[k, 0] = firsts[c, k, 0]
                first_wrap[k, 1] = firsts[c, k, 1]


@numba.njit(cache=True, nogil=True)
def deliver_numba(src, indptr, tgt_delay, weight, ring, slot_base) -> None:  # pragma: no cover - jitted
    for b in range(indptr.shape[0]):
        _deliver_block(src, indptr[b], tgt_delay, weight, ring, slot_base)


@numba.njit(cache=True, nogil=True)
def update_numba(
    acc, u, v, cnt, keep_u, keep_v, vth, bias, refract, vmin, vmax,
    spiked, wraps, first_wrap, shift, q_bits, u_bits, w_shift,
) -> None:  # pragma: no cover - jitted
    counts = np.zeros((1, 3), np.int64)
    firsts = np.full((1, 3, 2), -1, np.int64)
    _update_range(0, u.shape[0], acc, u, v, cnt, keep_u, keep_v, vth, bias, refract, vmin, vmax,
                  spiked, counts[0], firsts[0], shift, q_bits, u_bits, w_shift)
    _merge_wraps(counts, firsts, wraps, first_wrap)


def _step(
    t, in_axons, ring, n_slots, u, v, cnt, keep_u, keep_v, vth, bias, refract, vmin, vmax,
    spiked, wraps, first_wrap, src_buf, spike_counts, indptr, tgt_delay, weight, fanout,
    shift, q_bits, u_bits, w_shift,
):  # pragma: no cover - jitted
    """One whole step (update, then deliver) in one call; returns (n_src, n_spikes, events).

    src_buf [n_in + n] receives the step's sources: the input axons, then
    ``n_in + g`` for every compartment g that spiked, ascending.
    """
    n = u.shape[0]
    n_in = src_buf.shape[0] - n
    n_blocks = indptr.shape[0]
    acc = ring[(t % n_slots) * n : (t % n_slots + 1) * n]
    chunk = (n + n_blocks - 1) // n_blocks
    counts = np.zeros((n_blocks, 3), np.int64)
    firsts = np.full((n_blocks, 3, 2), -1, np.int64)
    for c in numba.prange(n_blocks):
        lo = min(n, c * chunk)
        hi = min(n, lo + chunk)
        _update_range(lo, hi, acc, u, v, cnt, keep_u, keep_v, vth, bias, refract, vmin, vmax,
                      spiked, counts[c], firsts[c], shift, q_bits, u_bits, w_shift)
    _merge_wraps(counts, firsts, wraps, first_wrap)
    k = 0
    for a in range(in_axons.shape[0]):
        src_buf[k] = in_axons[a]
        k += 1
    for i in range(n):
        if spiked[i]:
            src_buf[k] = n_in + i
            spike_counts[i] += 1
            k += 1
    src = src_buf[:k]
    events = 0
    for i in range(k):
        events += fanout[src[i]]
    slot_base = np.empty(n_slots, np.int64)
    for d in range(n_slots):
        slot_base[d] = ((t + 1 + d) % n_slots) * n
    for b in numba.prange(n_blocks):
        _deliver_block(src, indptr[b], tgt_delay, weight, ring, slot_base)
    return k, k - in_axons.shape[0], events


# The same step compiled twice: serially (one block: no thread-pool start-up,
# which costs more than it gains on small networks and under load) and with
# the blocks spread over numba's threads.
# Each gets its own function object and name, so numba's on-disk cache keeps
# the two compilations apart.
def _twin(fn, name: str):
    out = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    out.__qualname__ = name
    return out


step_numba_serial = numba.njit(cache=True, nogil=True)(_twin(_step, "_step_serial"))
step_numba_parallel = numba.njit(cache=True, parallel=True, nogil=True)(_twin(_step, "_step_parallel"))


def step_numba(*args):
    """Dispatch to the serial or the parallel step by the number of target blocks."""
    indptr = args[19]
    return (step_numba_serial if indptr.shape[0] == 1 else step_numba_parallel)(*args)


BACKENDS = {
    "numba": (deliver_numba, update_numba),
    "numpy": (deliver_numpy, update_numpy),
}
