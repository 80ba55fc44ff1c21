"""The rule stage's fast evaluation: every product split into a source part, a target part and a scalar.

A product of the sum-of-products rule (:mod:`loihi_emu.learning.rule`) is
``mant * prod_n (V_n + C_n) << shift``, gated by its dependency factor. Each
factor reads either the synapse's source (x0, x1, x2), its target
compartment (y0..y3), the profile (r0, r1, uK, constants) or the synapse
itself (w, d, t). So at the end of an epoch the kernel computes, once per
source row and product, ``fa[s, p]`` = the product of its source factors
(times the dependency indicator when it is x0), once per compartment
``fb[c, p]`` (target factors, y0 indicator), and once per product the scalar
``mant * constants * profile factors`` (times 0 or 1 for a uK dependency);
a synapse then costs two loads and two multiplies per product instead of a
walk over the factor table. The products are exact int64 and int64
multiplication is associative and commutative (also modulo 2^64), so the
result is bit for bit the same as the factor-by-factor evaluation of the
numpy twin. Synapse factors (w, d, t) are still multiplied per synapse.
"""

from __future__ import annotations

import numba
import numpy as np

from loihi_emu.learning.flat import (
    F_CONST,
    F_K,
    F_KIND,
    F_VAR,
    KIND_CONST,
    KIND_SGN,
    P_DEP,
    P_DEPK,
    P_FHI,
    P_FLO,
    P_MANT,
    VAR_U,
)

# variable codes by owner (flat.VAR_CODES): 0-2 source, 3-6 target, 7-8 reward (profile), 9-11 synapse
OWN_SRC, OWN_TGT, OWN_SCALAR, OWN_SYN = 0, 1, 2, 3


@numba.njit(cache=True, inline="always")
def owner(code):  # pragma: no cover - jitted
    """Which part of a synapse a variable code belongs to (OWN_*)."""
    if code < 0:  # no variable: the factor is its constant
        return OWN_SCALAR
    if code <= 2:
        return OWN_SRC
    if code <= 6:
        return OWN_TGT
    if code <= 8 or code == VAR_U:
        return OWN_SCALAR
    return OWN_SYN


@numba.njit(cache=True, inline="always")
def _u(k, t, T):  # pragma: no cover - jitted
    """uK over the epoch ending in step t: some step s in t-T+1..t has s % 2^K == 0."""
    return np.int64(1) if (t & ((np.int64(1) << k) - 1)) < T else np.int64(0)


@numba.njit(cache=True, inline="always")
def _value(kind, v, c):  # pragma: no cover - jitted
    if kind == KIND_SGN:
        return np.int64(1) if v > 0 else (np.int64(-1) if v < 0 else np.int64(0))
    return v + c


@numba.njit(cache=True, inline="always")
def _side_var(last, tr, base, code, i, t, T):  # pragma: no cover - jitted
    """Variable ``code`` of entry i of one side: ``base`` is its arrival indicator (x0 or y0, from ``last``),
    ``base + 1 + r`` its trace row r of ``tr``."""
    if code == base:
        return np.int64(1) if last[i] > t - T else np.int64(0)
    return np.int64(tr[code - base - 1, i])


@numba.njit(cache=True, nogil=True)
def _fill_side(out, lo, hi, side, base, last, tr, prods, facs, p, t, T):  # pragma: no cover - jitted
    """``out[lo:hi, p]``: product p's factors owned by ``side`` (OWN_SRC or OWN_TGT), 0 where its dependency is."""
    dep = prods[p, P_DEP]
    for i in range(lo, hi):
        x = np.int64(1)
        if owner(dep) == side and _side_var(last, tr, base, dep, i, t, T) == 0:
            x = 0
        else:
            for f in range(prods[p, P_FLO], prods[p, P_FHI]):
                code = facs[f, F_VAR]
                if facs[f, F_KIND] != KIND_CONST and owner(code) == side:
                    x *= _value(facs[f, F_KIND], _side_var(last, tr, base, code, i, t, T), facs[f, F_CONST])
        out[i, p] = x


@numba.njit(cache=True, nogil=True)
def factor_parts(a, t, lo_s, hi_s, lo_c, hi_c):  # pragma: no cover - jitted
    """Fill ``a.fa[lo_s:hi_s]`` (sources: x0 = code 0, x1, x2) and ``a.fb[lo_c:hi_c]`` (targets: y0 = code 3,
    y1..y3) for every product of every profile due at step t."""
    prods, facs, prof_prod, prof_epoch = a.prods, a.facs, a.prof_prod, a.prof_epoch
    for g in range(prof_epoch.shape[0]):
        T = prof_epoch[g]
        if (t + 1) % T != 0:
            continue
        for p in range(prof_prod[g, 0], prof_prod[g, 3]):
            _fill_side(a.fa, lo_s, hi_s, OWN_SRC, 0, a.x_last, a.x_tr, prods, facs, p, t, T)
            _fill_side(a.fb, lo_c, hi_c, OWN_TGT, 3, a.y_last, a.y_tr, prods, facs, p, t, T)


@numba.njit(cache=True, nogil=True)
def product_scalars(a, t):  # pragma: no cover - jitted
    """(scalar int64 [n_prod], has_syn uint8 [n_prod]): mantissa x constants x profile factors, 0 when gated off."""
    prods, facs, prof_prod, prof_epoch, r_val = a.prods, a.facs, a.prof_prod, a.prof_epoch, a.r_val
    sc = np.zeros(prods.shape[0], np.int64)
    syn = np.zeros(prods.shape[0], np.uint8)
    for g in range(prof_epoch.shape[0]):
        T = prof_epoch[g]
        if (t + 1) % T != 0:
            continue
        for p in range(prof_prod[g, 0], prof_prod[g, 3]):
            dep = prods[p, P_DEP]
            if dep == VAR_U:
                gate = _u(prods[p, P_DEPK], t, T)
            elif owner(dep) == OWN_SCALAR:
                gate = r_val[g, dep - 7]
            elif owner(dep) == OWN_SYN:
                gate = 1  # checked per synapse
                syn[p] = 1
            else:
                gate = 1
            x = np.int64(prods[p, P_MANT]) if gate != 0 else np.int64(0)
            for f in range(prods[p, P_FLO], prods[p, P_FHI]):
                kind, code = facs[f, F_KIND], facs[f, F_VAR]
                if kind == KIND_CONST:
                    x *= facs[f, F_CONST]
                elif code == VAR_U:
                    x *= _value(kind, _u(facs[f, F_K], t, T), facs[f, F_CONST])
                elif code < 0:
                    x *= _value(kind, np.int64(0), facs[f, F_CONST])
                elif owner(code) == OWN_SCALAR:
                    x *= _value(kind, r_val[g, code - 7], facs[f, F_CONST])
                elif owner(code) == OWN_SYN:
                    syn[p] = 1
            sc[p] = x
    return sc, syn


@numba.njit(cache=True, inline="always")
def syn_part(a, p, j, w, d, tg):  # pragma: no cover - jitted
    """The synapse factors of product p for synapse j (values before this update), 0 when its dependency is."""
    prods, facs = a.prods, a.facs
    dep = prods[p, P_DEP]
    vals = (np.int64(w), np.int64(d), np.int64(tg))
    if owner(dep) == OWN_SYN and vals[dep - 9] == 0:
        return np.int64(0)
    x = np.int64(1)
    for f in range(prods[p, P_FLO], prods[p, P_FHI]):
        code = facs[f, F_VAR]
        if facs[f, F_KIND] != KIND_CONST and owner(code) == OWN_SYN:
            x *= _value(facs[f, F_KIND], vals[code - 9], facs[f, F_CONST])
    return x
