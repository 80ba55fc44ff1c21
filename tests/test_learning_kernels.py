"""Each learning kernel against its numpy twin (identical bits on random inputs), and the generator."""

import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loihi_emu import LOIHI1
from loihi_emu.learning.flat import LearningArrays, rule_tables
from loihi_emu.learning.random import draw_numba, draw_numpy, draw_python, keys_for_step
from loihi_emu.learning.rule import (
    deliver_plastic_numba,
    deliver_plastic_numpy,
    rule_numba,
    rule_numba_parallel,
    rule_numba_parallel_ratio,
    rule_numba_ratio,
    rule_numpy,
)
from loihi_emu.learning.traces import decay_numba, decay_numpy, impulse_numba, impulse_numpy
from microcode import parse

S = LOIHI1
RULES = [
    "dw = 2^-2*x1*y0 - 2^-2*y1*x0",
    "dw = 7*2^-8*x1*y2*y0 - 5*2^-4*y1*x0*(w + 30); dd = x0*sgn(w) - 2^-1*y0*(d - 2)",
    "dw = u1*(-3) + 2^-7*y3*x2*y0 + 2^7*x0*(t - 128); dt = y0*(x2 + 1) - u2*sgn(t) + 2^-8*x0*(y3 + 127)",
    "dw = 2^-3*x0*(3+y1) - 5*2^-3*x0 + y0*x0*(r1 + 2); dt = x0*y0*(-7)",
    "dd = u0*(-1) + 3*x0*y0; dw = 2^-8*x0",
]


_STATE = ("w", "d", "tg", "x_tr", "y_tr", "x_last", "y_last", "todo", "n_eval")


def _larrays(n_in, n, P, **fields):
    """A LearningArrays with empty tables and zero state, overridden by ``fields``."""
    n_src = n_in + n
    i64 = np.zeros(0, np.int64)
    base = dict(
        n_in=n_in, frac_bits=S.learning_frac_bits, max_delay=S.max_delay, tag_lo=S.tag_range[0],
        tag_hi=S.tag_range[1], trace_max=S.trace_max, prof_epoch=np.ones(1, np.int64), prof_round=np.zeros(1, np.int64),
        prof_prod=np.zeros((1, 4), np.int64), prods=np.zeros((0, 6), np.int64), facs=np.zeros((0, 4), np.int64),
        fmts=np.zeros((1, 4), np.int64), pl_ptr=np.zeros(n_src + 2, np.int64), post_ptr=np.zeros(n + 1, np.int64),
        post_idx=i64, x_imp=np.zeros((2, n_src + 1), np.int32), x_tau=np.zeros((2, n_src + 1), np.int32),
        x_round=np.zeros(n_src + 1, np.uint8), y_imp=np.zeros((3, n), np.int32), y_tau=np.zeros((3, n), np.int32),
        y_round=np.zeros(n, np.uint8), pre=np.zeros(P, np.int64), post=np.zeros(P, np.int64),
        prof=np.zeros(P, np.int64), fmt=np.zeros(P, np.int64), w=np.zeros(P, np.int32), d=np.zeros(P, np.int32),
        tg=np.zeros(P, np.int32), x_tr=np.zeros((2, n_src + 1), np.int32), y_tr=np.zeros((3, n), np.int32),
        x_last=np.zeros(n_src + 1, np.int64), y_last=np.zeros(n, np.int64), todo=np.zeros(P, np.int64),
        x_id=np.arange(n_src + 1, dtype=np.int64), y_id=np.arange(n, dtype=np.int64),
        syn_id=np.arange(P, dtype=np.int64), n_eval=np.zeros(1, np.int64),
    )
    base["r_val"] = np.zeros((np.asarray(fields.get("prof_epoch", base["prof_epoch"])).size, 2), np.int64)
    base.update(fields)
    n_prod = np.asarray(base["prods"]).reshape(-1, 6).shape[0]
    base["fa"] = np.zeros((n_src + 1, n_prod), np.int64)
    base["fb"] = np.zeros((n, n_prod), np.int64)
    base["post_c"] = np.ascontiguousarray(base["post"], np.int32)
    return LearningArrays(**base)


def _copy(a):
    return a._replace(**{f: getattr(a, f).copy() for f in _STATE})


@numba.njit
def _draws(key, ids):
    out = np.empty(ids.size, np.uint64)
    for i in range(ids.size):
        out[i] = draw_numba(key, ids[i])
    return out


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**63), step=st.integers(0, 10**9), stream=st.integers(0, 7))
def test_generator_numba_numpy_python_agree(seed, step, stream):
    key = keys_for_step(seed, step)[stream]
    ids = np.array([0, 1, 2, 1000, 2**40 + 7], np.int64)
    want = np.array([draw_python(seed, step, stream, int(i)) for i in ids], np.uint64)
    np.testing.assert_array_equal(draw_numpy(key, ids), want)
    np.testing.assert_array_equal(_draws(key, ids), want)


def test_generator_bits_look_uniform():
    x = draw_numpy(keys_for_step(1, 2)[0], np.arange(200_000))
    bits = np.unpackbits(x.view(np.uint8)).reshape(-1, 64).mean(axis=0)
    assert np.abs(bits - 0.5).max() < 0.01


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_impulse_and_decay_kernels_match_numpy_twins(seed):
    rng = np.random.default_rng(seed)
    n_in, n = int(rng.integers(0, 30)), int(rng.integers(1, 40))
    n_src = n_in + n
    src = np.unique(rng.integers(0, n_src, int(rng.integers(0, n_src + 1)))).astype(np.int64)
    x_tau = rng.integers(0, 40, (2, n_src + 1)).astype(np.int32)
    y_tau = rng.integers(0, 40, (3, n)).astype(np.int32)
    x_imp = np.where(x_tau > 0, rng.integers(0, 128, (2, n_src + 1)), 0).astype(np.int32)
    y_imp = np.where(y_tau > 0, rng.integers(0, 128, (3, n)), 0).astype(np.int32)
    x_tr = np.where(x_tau > 0, rng.integers(0, 128, (2, n_src + 1)), 0).astype(np.int32)
    y_tr = np.where(y_tau > 0, rng.integers(0, 128, (3, n)), 0).astype(np.int32)
    x_round = rng.integers(0, 2, n_src + 1).astype(np.uint8)
    y_round = rng.integers(0, 2, n).astype(np.uint8)
    keys = keys_for_step(int(rng.integers(0, 2**32)), int(rng.integers(0, 10**6)))
    t = int(rng.integers(0, 1000))
    a0 = _larrays(n_in, n, 0, x_tau=x_tau, y_tau=y_tau, x_imp=x_imp, y_imp=y_imp, x_tr=x_tr, y_tr=y_tr,
                  x_round=x_round, y_round=y_round, x_last=np.full(n_src + 1, -5, np.int64),
                  y_last=np.full(n, -5, np.int64))
    outs = []
    for imp, dec in ((impulse_numpy, decay_numpy), (impulse_numba, decay_numba)):
        a = _copy(a0)
        imp(a, t, src)
        after_impulse = (a.x_tr.copy(), a.y_tr.copy(), a.x_last, a.y_last)
        dec(a, keys)
        outs.append(after_impulse + (a.x_tr, a.y_tr))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    # first principles: saturating impulse, then floor or ceil of x * (tau - 1) / tau
    xi = outs[0][0]
    hit = np.zeros(n_src + 1, bool)
    hit[src] = True
    np.testing.assert_array_equal(xi, np.where(hit, np.minimum(x_tr + x_imp, 127), x_tr))
    exact = xi * np.maximum(x_tau - 1, 0) / np.maximum(x_tau, 1)
    xd = outs[0][4]
    assert ((xd == np.floor(exact)) | ((xd == np.ceil(exact)) & (x_round[None, :] == 1))).all()


def _tables(rng, k):
    progs = [parse(RULES[int(i)]) for i in rng.integers(0, len(RULES), k)]
    return rule_tables(progs, S)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_rule_kernel_matches_numpy_twin(seed):
    rng = np.random.default_rng(seed)
    G = int(rng.integers(1, 4))
    prof_prod, prods, facs, _ = _tables(rng, G)
    prof_epoch = rng.choice([1, 1, 2, 3, 4, 8], G).astype(np.int64)
    prof_round = rng.integers(0, 2, G).astype(np.int64)
    n_in, n = int(rng.integers(0, 20)), int(rng.integers(1, 30))
    n_src, P = n_in + n, int(rng.integers(0, 300))
    pre = np.sort(rng.integers(0, n_src + 1, P)).astype(np.int64)  # n_src: rows no route reaches
    post = rng.integers(0, n, P).astype(np.int64)
    pl_ptr = np.searchsorted(pre, np.arange(n_src + 2)).astype(np.int64)
    post_idx = np.argsort(post, kind="stable").astype(np.int64)
    post_ptr = np.searchsorted(post[post_idx], np.arange(n + 1)).astype(np.int64)
    fmts = np.array([[0, 0, -256, 254], [2, 3, 0, 255], [-3, 6, -256, 0], [1, 1, -256, 254]], np.int64)
    pl_fmt = rng.integers(0, 4, P).astype(np.int64)
    w = np.clip(rng.integers(-256, 256, P), fmts[pl_fmt, 2], fmts[pl_fmt, 3]).astype(np.int32)
    d = rng.integers(0, 63, P).astype(np.int32)
    tg = rng.integers(-128, 128, P).astype(np.int32)
    t = int(rng.integers(0, 200))
    x_last = np.where(rng.random(n_src + 1) < 0.5, t - rng.integers(0, 10, n_src + 1), -(1 << 62)).astype(np.int64)
    x_last[n_src] = -(1 << 62)
    y_last = np.where(rng.random(n) < 0.5, t - rng.integers(0, 10, n), -(1 << 62)).astype(np.int64)
    x_tr = rng.integers(0, 128, (2, n_src + 1)).astype(np.int32)
    y_tr = rng.integers(0, 128, (3, n)).astype(np.int32)
    keys = keys_for_step(seed, t)
    pl_prof = rng.integers(0, G, P).astype(np.int64)
    a0 = _larrays(n_in, n, P, prof_epoch=prof_epoch, prof_round=prof_round, prof_prod=prof_prod, prods=prods,
                  facs=facs, fmts=fmts, pl_ptr=pl_ptr, post_ptr=post_ptr, post_idx=post_idx, pre=pre, post=post,
                  prof=pl_prof, fmt=pl_fmt, w=w, d=d, tg=tg, x_tr=x_tr, y_tr=y_tr, x_last=x_last, y_last=y_last,
                  r_val=np.stack([rng.integers(0, 2, G), rng.integers(0, 128, G)], axis=1).astype(np.int64))
    outs = []
    # the numba rule lists the synapses it visits (ratio 0) or scans all (huge ratio); serial and on threads
    runs = (rule_numpy, rule_numba, lambda a, t, k: rule_numba_ratio(a, t, k, 0), lambda a, t, k: rule_numba_ratio(a, t, k, 1 << 40),
            lambda a, t, k: rule_numba_parallel_ratio(a, t, k, 0), rule_numba_parallel,
            lambda a, t, k: rule_numba_parallel_ratio(a, t, k, 1 << 40))
    for fn in runs:
        a = _copy(a0)
        fn(a, t, keys)
        outs.append((a.w, a.d, a.tg))
    for other in outs[1:]:
        for x, y, name in zip(outs[0], other, ("w", "d", "t")):
            np.testing.assert_array_equal(x, y, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_slots=st.integers(1, 63))
def test_plastic_delivery_matches_numpy_twin(seed, n_slots):
    rng = np.random.default_rng(seed)
    n, n_src, P = int(rng.integers(1, 50)), int(rng.integers(1, 40)), int(rng.integers(0, 500))
    pre = np.sort(rng.integers(0, n_src + 1, P))
    pl_ptr = np.searchsorted(pre, np.arange(n_src + 2)).astype(np.int64)
    post = rng.integers(0, n, P).astype(np.int64)
    fmts = np.array([[w, 0, -256, 255] for w in range(-7, 8)], np.int64)
    pl_fmt = rng.integers(0, 15, P).astype(np.int64)
    w = rng.integers(-256, 256, P).astype(np.int32)
    d = rng.integers(0, n_slots, P).astype(np.int32)
    slot_base = (rng.permutation(n_slots) * n).astype(np.int64)
    src = np.unique(rng.integers(0, n_src, int(rng.integers(0, n_src + 1)))).astype(np.int64)
    rings, events = [], []
    a = _larrays(n_src - n if n_src > n else 0, n, P, pl_ptr=pl_ptr, post=post, fmt=pl_fmt, w=w, d=d, fmts=fmts)
    for fn in (deliver_plastic_numpy, deliver_plastic_numba):
        ring = np.zeros(n_slots * n, np.int32)
        events.append(fn(a, src, ring, slot_base))
        rings.append(ring)
    np.testing.assert_array_equal(rings[0], rings[1])
    assert events[0] == events[1] == int(np.isin(pre, src).sum())
    want = np.zeros(n_slots * n, np.int64)
    sel = np.isin(pre, src)
    np.add.at(want, slot_base[d[sel]] + post[sel], np.floor(w[sel] * 2.0 ** fmts[pl_fmt[sel], 0]).astype(np.int64))
    np.testing.assert_array_equal(rings[0], want)
