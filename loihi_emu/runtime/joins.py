"""Dendritic joins (docs/dendrites.md): the run-time arrays, the jitted per-compartment helpers and their numpy twin.

A compartment with a parent (image ``join_op`` != 0) is a *dendrite*: it
integrates like any compartment but never spikes, never resets and is never
refractory; every step it hands its parent, through its join op, its
voltage ``v`` (after the clip, before any reset) or its *condition*
``c = v > vth or (condition of its own children)``::

    ADD   parent's J += v                 every step
    BLOCK nothing                         (the branch is cut off)
    PASS  parent's J += v                 only in steps where c holds
    OR    parent's condition |= c
    AND   parent's condition |= (c of every AND child holds)

The parent adds ``J`` to ``u2`` (after its bias and noise, before ``u2``
wraps), so a child's voltage enters the parent's voltage in the same step.
A compartment's condition is ``v > vth`` or, when it is not refractory, the
joined condition of its children; a root (``join_op`` 0) spikes on it.
Children have lower global indices than their parents, so one pass in
index order is tree order; threads split compartments only at
``join_cut`` positions (never inside a tree).
"""

from __future__ import annotations

import numba
import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.image.joins import JOIN_ADD, JOIN_AND, JOIN_NONE, JOIN_OR, JOIN_PASS

JOIN_ARRAYS = ("join_op", "join_parent", "join_nand", "join_level", "join_cut")
"""The static join arrays of FlatNetwork and StepArrays (see :func:`join_arrays`)."""


def join_arrays(op: np.ndarray, parent: np.ndarray) -> dict[str, np.ndarray]:
    """The static run-time join arrays from per-compartment op codes and global parents (-1: root).

    join_op uint8 [n]; join_parent int64 [n] (-1 for a root); join_nand int32
    [n] the AND children of each compartment; join_level int32 [n] the height
    in its tree (leaves 0: the numpy twin's evaluation order); join_cut
    uint8 [n + 1]: 1 where a thread's range may start (no tree spans it).
    """
    n = op.size
    op = op.astype(np.uint8)
    parent = parent.astype(np.int64)
    child = np.flatnonzero(op != JOIN_NONE)
    nand = np.zeros(n, np.int32)
    np.add.at(nand, parent[child[op[child] == JOIN_AND]], 1)
    level = np.zeros(n, np.int32)
    for i in child:  # ascending: every child is done before its parent
        level[parent[i]] = max(level[parent[i]], level[i] + 1)
    span = np.zeros(n + 2, np.int64)  # positions x with c < x <= parent(c) for some child c cannot start a range
    np.add.at(span, child + 1, 1)
    np.add.at(span, parent[child] + 1, -1)
    cut = (np.cumsum(span)[: n + 1] == 0).astype(np.uint8)
    cut[0] = cut[n] = 1
    return {"join_op": op, "join_parent": parent, "join_nand": nand, "join_level": level, "join_cut": cut}


def image_join_arrays(image, n: int) -> dict[str, np.ndarray]:
    """The join arrays of ``image`` (an :class:`~loihi_emu.image.core.Image`) in global order; {} when all are roots."""
    if not any(c.compartments.join_op.any() for c in image.cores):
        return {}
    op, parent = np.zeros(n, np.uint8), np.full(n, -1, np.int64)
    for c in image.cores:
        t, g = c.compartments, c.compartments.global_index
        op[g] = t.join_op
        kid = np.flatnonzero(t.join_op)
        parent[g[kid]] = g[kid + t.join_offset[kid].astype(np.int64)]
    bad = (parent >= 0) & (parent <= np.arange(n))
    if bad.any():
        i = int(np.argmax(bad))
        raise ImageError(f"compartment {i} (global): its parent {int(parent[i])} must have a higher global index")
    return join_arrays(op, parent)


def join_scratch(n: int) -> dict[str, np.ndarray]:
    """Per-step scratch (zero between steps): join_acc int64 [n] (J), join_hits int32 [n], join_or uint8 [n]."""
    return {"join_acc": np.zeros(n, np.int64), "join_hits": np.zeros(n, np.int32), "join_or": np.zeros(n, np.uint8)}


# --------------------------------------------------------------------------- #
# jitted helpers, called by compartments.update_range for compartment i            #
# --------------------------------------------------------------------------- #
@numba.njit(cache=True, inline="always")
def join_input(a, i):  # pragma: no cover - jitted
    """J of compartment i (what its children joined this step, v units); clears it."""
    j = a.join_acc[i]
    a.join_acc[i] = 0
    return j


@numba.njit(cache=True, inline="always")
def join_condition(a, i):  # pragma: no cover - jitted
    """The joined condition of i's children this step (OR children, or all AND children); clears it."""
    nand = a.join_nand[i]
    hit = a.join_or[i] != 0 or (nand > 0 and a.join_hits[i] == nand)
    a.join_or[i] = 0
    a.join_hits[i] = 0
    return hit


@numba.njit(cache=True, inline="always")
def join_output(a, i, vv, c):  # pragma: no cover - jitted
    """Hand dendrite i's voltage ``vv`` or condition ``c`` to its parent by its join op."""
    op = a.join_op[i]
    p = a.join_parent[i]
    if op == JOIN_ADD or (op == JOIN_PASS and c):
        a.join_acc[p] += vv
    elif op == JOIN_OR and c:
        a.join_or[p] = 1
    elif op == JOIN_AND and c:
        a.join_hits[p] += 1


@numba.njit(cache=True, inline="always")
def next_cut(cut, x):  # pragma: no cover - jitted
    """The first position >= x where a thread's range may start (``cut[n]`` is 1)."""
    while cut[x] == 0:
        x += 1
    return x


# --------------------------------------------------------------------------- #
# numpy twin                                                                   #
# --------------------------------------------------------------------------- #
def join_update_numpy(a, u2_raw: np.ndarray, v_dec: np.ndarray, wrap, clip_lo, clip_hi):
    """Steps 3-6 of the update for every compartment with joins, level by level (leaves first).

    u2_raw: int64 [n] ``u + bias (+ noise)`` before the join; v_dec: int64 [n]
    decayed voltage; wrap(x) wraps to the u width. ``a`` needs the static join
    arrays, ``vth`` and ``cnt``. Float inputs (and an identity wrap) give the
    float reference's step. Returns (u2_raw with J,
    u2, v before reset, spike flags); dendrites' flags are 0.
    """
    n = u2_raw.shape[0]
    u2_raw = u2_raw.copy()
    dt = u2_raw.dtype  # int64 here; float64 for the compiler's float reference, which shares this twin
    acc, hits, orh = np.zeros(n, dt), np.zeros(n, np.int64), np.zeros(n, bool)
    u2, v, spk = np.zeros(n, dt), np.zeros(n, dt), np.zeros(n, bool)
    op, parent, cnt = a.join_op, a.join_parent, a.cnt
    for lvl in range(int(a.join_level.max()) + 1 if n else 0):
        idx = np.flatnonzero(a.join_level == lvl)
        u2_raw[idx] += acc[idx]
        u2[idx] = wrap(u2_raw[idx])
        vv = np.clip(v_dec[idx] + u2[idx], clip_lo[idx], clip_hi[idx])
        vv[cnt[idx] > 0] = 0
        c = (vv > a.vth[idx]) | ((cnt[idx] == 0) & (orh[idx] | ((a.join_nand[idx] > 0) & (hits[idx] == a.join_nand[idx]))))
        o, p = op[idx], parent[idx]
        add = (o == JOIN_ADD) | ((o == JOIN_PASS) & c)
        np.add.at(acc, p[add], vv[add])
        orh[p[(o == JOIN_OR) & c]] = True
        np.add.at(hits, p[(o == JOIN_AND) & c], 1)
        v[idx] = vv
        spk[idx] = c & (o == JOIN_NONE)
    return u2_raw, u2, v, spk
