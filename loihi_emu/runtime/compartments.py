"""The CUBA compartment update of one range of compartments: the numba inner loops of stage ``update``.

:func:`update_range` is the general loop (noise, dendritic joins); images
with neither take :func:`update_plain`, the same bits without
data-dependent branches so that LLVM vectorises it. Their numpy twin is
:func:`loihi_emu.runtime.kernels.update_numpy`; the stage kernels that split
compartments over threads are in :mod:`loihi_emu.runtime.kernels`.

Units as there: the ring entry is in weight units (``<< w_shift`` gives
q), keep factors in 1/2^decay_bits, wraps are two's complement to
``q_bits`` / ``u_bits`` magnitude bits.
"""

from __future__ import annotations

import numba
import numpy as np

from loihi_emu.runtime.joins import join_condition, join_input, join_output
from loihi_emu.runtime.noise import noise_value


@numba.njit(cache=True, inline="always")
def _wrap(x, bits):  # pragma: no cover - jitted
    half = np.int64(1) << bits
    return ((x + half) & (2 * half - 1)) - half


@numba.njit(cache=True, inline="always")
def _decay(x, keep, shift):  # pragma: no cover - jitted
    if x < 0:
        return -((-x * keep) >> shift)
    return (x * keep) >> shift


@numba.njit(cache=True, inline="always")
def _decay_flat(x, keep, shift):  # pragma: no cover - jitted
    # _decay without a branch (keep >= 0): a negative product gets 2^shift - 1
    # added before the arithmetic shift, which then truncates toward zero.
    p = x * keep
    return (p + ((p >> 63) & ((np.int64(1) << shift) - 1))) >> shift


# Compartments per chunk of the plain update: its saved inputs (two int32
# arrays of this length) stay in L1 while the chunk is redone for a wrap.
_CHUNK = 1024


@numba.njit(cache=True, inline="always")
def _plain_raw(acc_i, u_i, keep_u, bias, shift, q_bits, u_bits, w_shift):  # pragma: no cover - jitted
    """(q_raw, q, u_raw, uu, u2_raw, u2) of one compartment from its ring entry and old u."""
    q_raw = np.int64(acc_i) << w_shift
    q = _wrap(q_raw, q_bits)
    u_raw = _decay_flat(np.int64(u_i), np.int64(keep_u), shift) + q
    uu = _wrap(u_raw, u_bits)
    u2_raw = uu + bias
    return q_raw, q, u_raw, uu, u2_raw, _wrap(u2_raw, u_bits)


@numba.njit(cache=True, nogil=True)
def _plain_chunk(a, acc, lo, hi):  # pragma: no cover - jitted
    """Update compartments lo..hi-1 (no noise, no joins); returns how many wrapped q, u, u2.

    No data-dependent branch and unsigned indices, so LLVM vectorises the loop.
    """
    u, v, cnt, keep_u, keep_v, vth, bias = a.u, a.v, a.cnt, a.keep_u, a.keep_v, a.vth, a.bias
    refract, vmin, vmax, spiked = a.refract, a.vmin, a.vmax, a.spiked
    shift, q_bits, u_bits, w_shift = a.decay_bits, a.q_bits, a.u_bits, a.w_shift
    nq = nu = nu2 = 0
    for i in range(np.uint64(lo), np.uint64(hi)):
        q_raw, q, u_raw, uu, u2_raw, u2 = _plain_raw(acc[i], u[i], keep_u[i], bias[i], shift, q_bits, u_bits,
                                                     w_shift)
        acc[i] = 0
        vv = _decay_flat(np.int64(v[i]), np.int64(keep_v[i]), shift) + u2
        vv = min(max(vv, np.int64(vmin[i])), np.int64(vmax[i]))
        r = np.int64(cnt[i])
        vv = np.int64(0) if r > 0 else vv
        s = vv > vth[i]
        vv = np.int64(0) if s else vv
        r = np.int64(refract[i]) if s else r
        r = r - 1 if r > 0 else r
        u[i] = uu
        v[i] = vv
        cnt[i] = r
        spiked[i] = s
        nq += q != q_raw
        nu += uu != u_raw
        nu2 += u2 != u2_raw
    return nq, nu, nu2


@numba.njit(cache=True, inline="always")
def _note_wrap(counts, firsts, k, i, raw, hit):  # pragma: no cover - jitted
    if hit:
        if counts[k] == 0:
            firsts[k, 0] = i
            firsts[k, 1] = raw
        counts[k] += 1


@numba.njit(cache=True, nogil=True)
def update_plain(a, acc, lo, hi, counts, firsts):  # pragma: no cover - jitted
    """:func:`update_range` for images without noise or joins (the same bits), vectorised.

    Chunk by chunk: save the chunk's ring entries and u, update it with
    :func:`_plain_chunk`; only when something wrapped (rare) redo the
    chunk's q, u, u2 from the saved values to note each wrap in order.
    """
    keep_u, bias = a.keep_u, a.bias
    shift, q_bits, u_bits, w_shift = a.decay_bits, a.q_bits, a.u_bits, a.w_shift
    old_acc = np.empty(_CHUNK, np.int32)
    old_u = np.empty(_CHUNK, np.int32)
    for c0 in range(lo, hi, _CHUNK):
        c1 = min(hi, c0 + _CHUNK)
        m = np.uint64(c1 - c0)
        ofs = np.uint64(c0)
        for j in range(m):
            old_acc[j] = acc[ofs + j]
            old_u[j] = a.u[ofs + j]
        nq, nu, nu2 = _plain_chunk(a, acc, c0, c1)
        if nq + nu + nu2 == 0:
            continue
        for j in range(c1 - c0):
            i = c0 + j
            q_raw, q, u_raw, uu, u2_raw, u2 = _plain_raw(old_acc[j], old_u[j], keep_u[i], bias[i], shift, q_bits,
                                                         u_bits, w_shift)
            _note_wrap(counts, firsts, 0, i, q_raw, q != q_raw)
            _note_wrap(counts, firsts, 1, i, u_raw, uu != u_raw)
            _note_wrap(counts, firsts, 2, i, u2_raw, u2 != u2_raw)


@numba.njit(cache=True, nogil=True)
def update_range(a, acc, lo, hi, counts, firsts, nkey):  # pragma: no cover - jitted
    """Compartments lo..hi-1 of ``a``; acc: this step's ring slot; counts [3] and firsts [3, 2] belong to this range.

    nkey: the step's noise key (:func:`loihi_emu.runtime.noise.noise_key`), used when ``a.has_noise``.
    """
    u, v, cnt, keep_u, keep_v, vth, bias = a.u, a.v, a.cnt, a.keep_u, a.keep_v, a.vth, a.bias
    refract, vmin, vmax, spiked = a.refract, a.vmin, a.vmax, a.spiked
    shift, q_bits, u_bits, w_shift = a.decay_bits, a.q_bits, a.u_bits, a.w_shift
    has_noise, noise_mode, has_joins = a.has_noise, a.noise_mode, a.has_joins
    for i in range(np.uint64(lo), np.uint64(hi)):  # unsigned: no wrap-around index checks
        q_raw = np.int64(acc[i]) << w_shift
        acc[i] = 0
        mode = noise_mode[i] if has_noise else 0
        nz = noise_value(nkey, i, a.noise_shift[i], a.noise_off[i]) if mode else 0
        if mode == 1:
            q_raw += nz
        q = _wrap(q_raw, q_bits)
        u_raw = _decay(np.int64(u[i]), np.int64(keep_u[i]), shift) + q
        uu = _wrap(u_raw, u_bits)
        u2_raw = uu + bias[i]
        if mode == 2:
            u2_raw += nz
        if has_joins:
            u2_raw += join_input(a, i)
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
        if has_joins:
            if join_condition(a, i) and r == 0:
                s = True
            if a.join_op[i] != 0:  # a dendrite: hands v or s to its parent; never spikes or resets
                join_output(a, i, vv, s)
                s = False
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
def merge_wraps(counts, firsts, wraps, first_wrap):  # pragma: no cover - jitted
    """Add per-chunk wrap counts; keep the lowest-index first wrap per quantity."""
    for k in range(3):
        first_wrap[k, 0] = -1
        first_wrap[k, 1] = 0
        for c in range(counts.shape[0]):
            wraps[k] += counts[c, k]
            if first_wrap[k, 0] < 0 and counts[c, k] > 0:
                first_wrap[k, 0] = firsts[c, k, 0]
                first_wrap[k, 1] = firsts[c, k, 1]
