"""Rule stage and plastic delivery of the learning engine: numba kernels and numpy twins.

Stage ``rule`` (reads: arrival steps, traces, rule tables, plastic state;
sets: weight mantissa ``w``, delay ``d``, tag ``tg`` of plastic synapses).
At the last step ``t`` of a learning epoch of length T (``(t + 1) % T == 0``)
every plastic synapse of a profile with that epoch computes, for each
target Z in (dw, dd, dt),

    dZ = sum_m  mant_m * 2^exp_m * prod_n (V_mn + C_mn)

with ``x0`` = "its source arrived in steps t-T+1..t", ``y0`` = "its target
compartment spiked in steps t-T..t-1" (arrived t-T+1..t), ``uK`` = "some
step s of the epoch has s % 2^K == 0" (``(t & (2^K - 1)) < T``), traces as
they are after this step's impulses, ``r0``, ``r1`` the profile's reward
indicator and trace (``a.r_val``, set by :mod:`loihi_emu.learning.reward`), and
``w``, ``d``, ``t`` the values before this update (the three targets are
updated together). In fixed point every product is an exact int64 in units
of ``2^-F``, F = ``spec.learning_frac_bits`` (8): ``mant * prod << (exp + F)``.

Rounding to the target's step P (the format's P for w, 1 for d and t):
deterministic ``R = sign * ceil(|dZ|)``, step ``P * trunc(R / P)``;
stochastic: ``|dZ| / P`` rounds up with probability equal to its dropped
fraction, with the draw of (seed, step, stream 5/6/7, stable synapse id).
Then ``w`` is clipped by sign mode, ``d`` to 0..max_delay, ``t`` to the tag range.

The numba kernel visits only synapses whose source arrived or whose target
spiked in the window (a full sweep when a ``uK`` product is due) and skips
products whose dependency factor is 0; the numpy twin evaluates every
product of every due synapse at face value. They must agree bit for bit.

Stage ``deliver`` (reads: the step's sources, plastic state; increments:
ring slots): a plastic synapse adds ``floor(w * 2^wexp)`` (weight units of
64, no mantissa bits dropped) to slot ``t + 1 + d``.
"""

from __future__ import annotations

import numba
import numpy as np

from loihi_emu.image.weights import shift_exponent
from loihi_emu.learning.factored import factor_parts, product_scalars, syn_part
from loihi_emu.learning.flat import (
    F_CONST,
    F_K,
    F_KIND,
    F_VAR,
    KIND_CONST,
    KIND_SGN,
    M_PSHIFT,
    M_WEXP,
    M_WMAX,
    M_WMIN,
    P_DEP,
    P_DEPK,
    P_FHI,
    P_FLO,
    P_MANT,
    P_SHIFT,
    VAR_U,
)
from loihi_emu.learning.random import STREAM_D, STREAM_T, STREAM_W, draw_numba
from loihi_emu.rng import GOLDEN, mix_numpy


# --------------------------------------------------------------------------- #
# numpy twins                                                                   #
# --------------------------------------------------------------------------- #
def _round_numpy(acc, frac, pshift, stoch, key, ident):
    """Signed step of each ``acc`` (units 2^-frac) onto multiples of 2^pshift (see module doc)."""
    mag = np.abs(acc)
    det = (((mag + (1 << frac) - 1) >> frac) >> pshift) << pshift
    nb = (frac + pshift).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = mix_numpy(np.uint64(key) + ident.astype(np.uint64) * np.uint64(GOLDEN))
    fr = (mag & ((np.int64(1) << (frac + pshift)) - 1)).astype(np.uint64)
    up = (fr > 0) & ((h >> (np.uint64(64) - nb)) < fr)
    sto = ((mag >> (frac + pshift)) + up) << pshift
    return np.sign(acc) * np.where(stoch, sto, det)


def _var_numpy(code, k, vals, t, T):
    if code == VAR_U:
        return ((t & ((1 << k) - 1)) < T).astype(np.int64)
    return vals[code]


def rule_numpy(a, t: int, keys: np.ndarray) -> None:
    """One rule stage (step t) over every plastic synapse of ``a`` (a LearningArrays); keys: uint64 [8]
    stream keys of (seed, t). ``a.todo`` is unused here (the numba kernel lists the synapses it visits there)."""
    x_last, y_last, x_tr, y_tr, prof_epoch, prof_round = a.x_last, a.y_last, a.x_tr, a.y_tr, a.prof_epoch, a.prof_round
    prof_prod, prods, facs, fmts, w, d, tg = a.prof_prod, a.prods, a.facs, a.fmts, a.w, a.d, a.tg
    pl_pre, pl_post, pl_prof, pl_fmt = a.pre, a.post, a.prof, a.fmt
    frac, max_delay, tag_lo, tag_hi = a.frac_bits, a.max_delay, a.tag_lo, a.tag_hi
    T = prof_epoch[pl_prof]
    due = (t + 1) % T == 0
    a.n_eval[0] += int(due.sum())
    if not due.any():
        return
    vals = [
        (x_last[pl_pre] > t - T).astype(np.int64), x_tr[0, pl_pre].astype(np.int64), x_tr[1, pl_pre].astype(np.int64),
        (y_last[pl_post] > t - T).astype(np.int64), y_tr[0, pl_post].astype(np.int64),
        y_tr[1, pl_post].astype(np.int64), y_tr[2, pl_post].astype(np.int64), a.r_val[pl_prof, 0],
        a.r_val[pl_prof, 1],
        w.astype(np.int64), d.astype(np.int64), tg.astype(np.int64),
    ]
    acc = np.zeros((3, pl_pre.size), np.int64)
    for g in range(prof_epoch.size):
        sel = due & (pl_prof == g)
        if not sel.any():
            continue
        for k in range(3):
            for p in range(prof_prod[g, k], prof_prod[g, k + 1]):
                prod = np.full(pl_pre.size, prods[p, P_MANT], np.int64)
                for f in range(prods[p, P_FLO], prods[p, P_FHI]):
                    kind, c = facs[f, F_KIND], facs[f, F_CONST]
                    if kind == KIND_CONST:
                        prod = prod * c
                        continue
                    v = _var_numpy(facs[f, F_VAR], facs[f, F_K], vals, t, T)
                    prod = prod * (np.sign(v) if kind == KIND_SGN else v + c)
                acc[k] += np.where(sel, prod << prods[p, P_SHIFT], 0)
    stoch = prof_round[pl_prof] != 0
    ident = a.syn_id
    pshift = fmts[pl_fmt, M_PSHIFT]
    zeros = np.zeros_like(pshift)
    dw = _round_numpy(acc[0], frac, pshift, stoch, keys[STREAM_W], ident)
    dd = _round_numpy(acc[1], frac, zeros, stoch, keys[STREAM_D], ident)
    dt = _round_numpy(acc[2], frac, zeros, stoch, keys[STREAM_T], ident)
    w[:] = np.clip(vals[9] + dw, fmts[pl_fmt, M_WMIN], fmts[pl_fmt, M_WMAX])
    d[:] = np.clip(vals[10] + dd, 0, max_delay)
    tg[:] = np.clip(vals[11] + dt, tag_lo, tag_hi)


def deliver_plastic_numpy(a, src, ring, slot_base) -> int:
    """Add each plastic synapse of every source in ``src`` to ring slot ``slot_base[d] + post``; returns events."""
    pl_ptr, pl_post, pl_fmt, w, d, fmts = a.pl_ptr, a.post, a.fmt, a.w, a.d, a.fmts
    j = np.concatenate([np.arange(pl_ptr[s], pl_ptr[s + 1]) for s in src]) if len(src) else np.zeros(0, np.int64)
    j = j.astype(np.int64)
    eff = shift_exponent(w[j], fmts[pl_fmt[j], M_WEXP])
    np.add.at(ring, slot_base[d[j]] + pl_post[j], eff.astype(np.int32))
    return int(j.size)


# --------------------------------------------------------------------------- #
# numba kernels                                                                 #
# --------------------------------------------------------------------------- #
@numba.njit(cache=True, inline="always")
def _round(acc, frac, pshift, stoch, key, ident):  # pragma: no cover - jitted
    mag = acc if acc > 0 else -acc
    if stoch:
        nb = frac + pshift
        q = mag >> nb
        fr = mag & ((np.int64(1) << nb) - 1)
        if fr > 0:
            h = draw_numba(key, ident)
            if (h >> np.uint64(64 - nb)) < np.uint64(fr):
                q += 1
        c = q << pshift
    else:
        c = (((mag + (np.int64(1) << frac) - 1) >> frac) >> pshift) << pshift
    return c if acc > 0 else -c


SCAN_RATIO = 8
"""The rule scans every plastic synapse in storage order instead of listing the due ones when the listed
ones would be more than 1/SCAN_RATIO of them (counted with repeats, so an upper bound): on 1M plastic
synapses listing 78k cost 12-14 ms and scanning all 16 ms on one thread, the break-even near 1/10. Both visit the same synapses, so the choice never changes a bit."""


@numba.njit(cache=True, nogil=True)
def _rule_plan(a, t, ratio):  # pragma: no cover - jitted
    """How the rule of step t visits synapses: (0, 0, 0) none due; (1, m, since) listed in ``a.todo[:m]``;
    (2, 0, since) scan the synapses whose source arrived or target spiked after step ``since``;
    (3, 0, 0) scan all (a uK product is due). ratio: :data:`SCAN_RATIO` (0: always list)."""
    x_last, y_last, prof_epoch, prof_prod, prods = a.x_last, a.y_last, a.prof_epoch, a.prof_prod, a.prods
    pl_pre, pl_ptr, post_ptr, post_idx, todo = a.pre, a.pl_ptr, a.post_ptr, a.post_idx, a.todo
    tmax = 0
    sweep = False
    for g in range(prof_epoch.shape[0]):
        T = prof_epoch[g]
        if (t + 1) % T != 0:
            continue
        tmax = max(tmax, T)
        for p in range(prof_prod[g, 0], prof_prod[g, 3]):
            if prods[p, P_DEP] == VAR_U and (t & ((np.int64(1) << prods[p, P_DEPK]) - 1)) < T:
                sweep = True
    if tmax == 0:
        return 0, 0, 0
    if sweep:
        return 3, 0, 0
    since = t - tmax  # in the widest due window: arrival step > since
    est = 0  # an upper bound of the synapses to list (a synapse may count twice)
    for s in range(pl_ptr.shape[0] - 2):  # the last entry (unreached rows) never arrives
        if x_last[s] > since:
            est += pl_ptr[s + 1] - pl_ptr[s]
    for c in range(post_ptr.shape[0] - 1):
        if y_last[c] > since:
            est += post_ptr[c + 1] - post_ptr[c]
    if est * ratio > pl_pre.shape[0]:
        return 2, 0, since
    m = 0  # the synapses to evaluate go to todo[:m]
    for s in range(pl_ptr.shape[0] - 2):
        if x_last[s] > since:
            for j in range(pl_ptr[s], pl_ptr[s + 1]):
                todo[m] = j
                m += 1
    for c in range(post_ptr.shape[0] - 1):
        if y_last[c] > since:
            for i in range(post_ptr[c], post_ptr[c + 1]):
                j = post_idx[i]
                if x_last[pl_pre[j]] <= since:  # not listed above
                    todo[m] = j
                    m += 1
    return 1, m, since


@numba.njit(cache=True, nogil=True)
def _rule_run(a, t, keys, mode, since, lo, hi, sc, syn, due):  # pragma: no cover - jitted
    """Evaluate run lo..hi of the plan of :func:`_rule_plan` (entries of ``a.todo`` in mode 1, storage
    positions in modes 2, 3); writes only those synapses' w, d, tg; returns how many were due.

    sc, syn: :func:`~loihi_emu.learning.factored.product_scalars`; due uint8 [G]: the profile's epoch
    ends at t; ``a.fa``/``a.fb`` filled by :func:`~loihi_emu.learning.factored.factor_parts`.
    """
    # one loop body with every array in a local: a call per synapse would pass (and
    # reference-count) every array, which costs more than the evaluation
    prof_prod, prods, fmts, w, d, tg = a.prof_prod, a.prods, a.fmts, a.w, a.d, a.tg
    pl_pre, pl_post, pl_prof, pl_fmt, todo, prof_round = a.pre, a.post, a.prof, a.fmt, a.todo, a.prof_round
    frac, max_delay, tag_lo, tag_hi = a.frac_bits, a.max_delay, a.tag_lo, a.tag_hi
    fa, fb, syn_id, x_last, y_last = a.fa, a.fb, a.syn_id, a.x_last, a.y_last
    pl_ptr, post_c = a.pl_ptr, a.post_c
    n_eval = 0
    # mode 2 walks the source rows (storage is by source): a row whose source arrived is due whole,
    # otherwise a synapse is due when its target spiked (read from the compact copy post_c)
    s = max(np.searchsorted(pl_ptr, lo, side="right") - 1, 0) if mode == 2 else 0
    row_end = pl_ptr[s + 1] if mode == 2 else 0
    x_act = x_last[s] > since if mode == 2 else True
    for i in range(lo, hi):
        if mode == 1:
            j = todo[i]
        else:
            j = i
            if mode == 2:
                while j >= row_end:
                    s += 1
                    row_end = pl_ptr[s + 1]
                    x_act = x_last[s] > since
                if not x_act and y_last[post_c[j]] <= since:
                    continue
        pre, post = pl_pre[j], pl_post[j]
        g = pl_prof[j]
        if due[g] == 0:
            continue
        n_eval += 1
        wj, dj, tj = np.int64(w[j]), np.int64(d[j]), np.int64(tg[j])
        for k in range(3):
            acc = np.int64(0)
            for p in range(prof_prod[g, k], prof_prod[g, k + 1]):
                x = sc[p]
                if x == 0:
                    continue
                x *= fa[pre, p]
                if x == 0:
                    continue
                x *= fb[post, p]
                if syn[p] != 0:
                    x *= syn_part(a, p, j, wj, dj, tj)
                acc += x << prods[p, P_SHIFT]
            if acc == 0:
                continue
            stoch = prof_round[g] != 0
            if k == 0:
                fm = pl_fmt[j]
                nw = wj + _round(acc, frac, fmts[fm, M_PSHIFT], stoch, keys[STREAM_W], syn_id[j])
                w[j] = min(max(nw, fmts[fm, M_WMIN]), fmts[fm, M_WMAX])
            elif k == 1:
                nd = dj + _round(acc, frac, 0, stoch, keys[STREAM_D], syn_id[j])
                d[j] = min(max(nd, 0), max_delay)
            else:
                nt = tj + _round(acc, frac, 0, stoch, keys[STREAM_T], syn_id[j])
                tg[j] = min(max(nt, tag_lo), tag_hi)
    return n_eval


@numba.njit(cache=True, nogil=True)
def _due(a, t):  # pragma: no cover - jitted
    due = np.zeros(a.prof_epoch.shape[0], np.uint8)
    for g in range(due.shape[0]):
        due[g] = 1 if (t + 1) % a.prof_epoch[g] == 0 else 0
    return due


@numba.njit(cache=True, nogil=True)
def rule_numba_ratio(a, t, keys, ratio) -> None:  # pragma: no cover - jitted
    """The rule stage, listing synapses unless more than 1/ratio of them are due (:data:`SCAN_RATIO`)."""
    mode, m, since = _rule_plan(a, t, ratio)
    if mode == 0:
        return
    factor_parts(a, t, 0, a.fa.shape[0], 0, a.fb.shape[0])
    sc, syn = product_scalars(a, t)
    hi = m if mode == 1 else a.pre.shape[0]
    a.n_eval[0] += _rule_run(a, t, keys, mode, since, 0, hi, sc, syn, _due(a, t))


@numba.njit(cache=True, nogil=True)
def rule_numba(a, t, keys) -> None:  # pragma: no cover - jitted
    rule_numba_ratio(a, t, keys, SCAN_RATIO)


RUNS = 16
"""Runs the parallel rule and decay split their work into (a constant: numba.get_num_threads() in a kernel
would keep it out of the on-disk cache; any split gives the same bits)."""


@numba.njit(cache=True, nogil=True, parallel=True)
def rule_numba_parallel_ratio(a, t, keys, ratio) -> None:  # pragma: no cover - jitted
    """rule_numba_ratio with the visited synapses split into RUNS contiguous runs over numba's threads.

    Each synapse is visited once and the rule writes only its own w, d, tg
    (reading traces and arrival steps no stage changes meanwhile); stochastic
    draws are keyed by the synapse id. So any split gives the same bits.
    """
    mode, m, since = _rule_plan(a, t, ratio)
    if mode == 0:
        return
    ns, nc = a.fa.shape[0], a.fb.shape[0]
    for c in numba.prange(RUNS):  # the factored parts: disjoint rows
        factor_parts(a, t, ns * c // RUNS, ns * (c + 1) // RUNS, nc * c // RUNS, nc * (c + 1) // RUNS)
    sc, syn = product_scalars(a, t)
    due = _due(a, t)
    total = m if mode == 1 else a.pre.shape[0]
    n_chunks = max(1, min(RUNS, total))  # numba spreads the runs over its threads
    chunk = (total + n_chunks - 1) // n_chunks
    counts = np.zeros(n_chunks, np.int64)
    for c in numba.prange(n_chunks):
        counts[c] = _rule_run(a, t, keys, mode, since, min(total, c * chunk), min(total, (c + 1) * chunk),
                              sc, syn, due)
    a.n_eval[0] += counts.sum()


@numba.njit(cache=True, nogil=True)
def rule_numba_parallel(a, t, keys) -> None:  # pragma: no cover - jitted
    rule_numba_parallel_ratio(a, t, keys, SCAN_RATIO)


@numba.njit(cache=True, nogil=True)
def deliver_plastic_numba(a, src, ring, slot_base) -> int:  # pragma: no cover - jitted
    pl_ptr, pl_post, pl_fmt, w, d, fmts = a.pl_ptr, a.post, a.fmt, a.w, a.d, a.fmts
    events = 0
    for i in range(src.shape[0]):
        s = src[i]
        for j in range(pl_ptr[s], pl_ptr[s + 1]):
            wexp = fmts[pl_fmt[j], M_WEXP]
            wm = np.int64(w[j])
            eff = wm << wexp if wexp >= 0 else wm >> -wexp
            ring[slot_base[d[j]] + pl_post[j]] += eff
        events += pl_ptr[s + 1] - pl_ptr[s]
    return events
