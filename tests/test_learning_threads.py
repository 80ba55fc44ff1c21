"""The learning stages on threads give the bits of one thread (rule and decay split into disjoint runs)."""

import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_learning_engine import RULES, _run, _same, plastic_net

from loihi_emu import Emulator
from loihi_emu.learning.factored import factor_parts, product_scalars
from loihi_emu.learning.random import keys_for_step
from loihi_emu.learning.rule import SCAN_RATIO, _due, _rule_plan, _rule_run, rule_numba, rule_numba_parallel
from loihi_emu.learning.traces import decay_numba, decay_numba_parallel


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rule=st.sampled_from(RULES), epoch=st.sampled_from([1, 4]),
       rounding=st.sampled_from(["det", "stochastic"]))
def test_learning_bits_do_not_depend_on_threads(seed, rule, epoch, rounding):
    *_, image, inputs = plastic_net(seed, rule, epoch, rounding)
    one = _run(image, inputs, seed=5, n_threads=1)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        for n in (2, 3):  # target blocks of the step; the learning stages split over the threads
            _same(one, _run(image, inputs, seed=5, n_threads=n))
    finally:
        numba.set_num_threads(threads)
    _same(one, _run(image, inputs, seed=5, backend="numpy"))


def _state(a):
    return [x.copy() for x in (a.w, a.d, a.tg, a.x_tr, a.y_tr, a.n_eval)]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rule=st.sampled_from(RULES), cuts=st.lists(st.floats(0, 1), max_size=3))
def test_rule_and_decay_any_split_gives_the_same_bits(seed, rule, cuts):
    """Evaluating the listed synapses in any runs, in any order, equals one pass; so do the parallel kernels."""
    *_, image, inputs = plastic_net(seed, rule, 1, "stochastic")
    emu = Emulator(image, probes=[], seed=3)
    emu.run(40, inputs[:40])  # traces and arrival steps of a running network
    a = emu.learning.arrays
    t, keys = 40, keys_for_step(3, 40)
    snap = _state(a)

    def restore():
        for dst, src in zip((a.w, a.d, a.tg, a.x_tr, a.y_tr, a.n_eval), snap):
            dst[...] = src

    rule_numba(a, t, keys)
    decay_numba(a, keys)
    want = _state(a)
    restore()
    rule_numba_parallel(a, t, keys)
    decay_numba_parallel(a, keys)
    for x, y in zip(want, _state(a)):
        np.testing.assert_array_equal(x, y)
    restore()
    mode, m, since = _rule_plan(a, t, SCAN_RATIO)
    m = m if mode == 1 else a.pre.shape[0]
    factor_parts(a, t, 0, a.fa.shape[0], 0, a.fb.shape[0])
    sc, syn = product_scalars(a, t)
    due = _due(a, t)
    bounds = sorted({0, m, *(int(c * m) for c in cuts)})
    runs = list(zip(bounds[:-1], bounds[1:]))[::-1]  # the runs in reverse order
    n_eval = sum(_rule_run(a, t, keys, mode, since, lo, hi, sc, syn, due) for lo, hi in runs)
    np.testing.assert_array_equal(a.w, want[0])
    np.testing.assert_array_equal(a.d, want[1])
    np.testing.assert_array_equal(a.tg, want[2])
    assert n_eval == want[5][0] - snap[5][0]
