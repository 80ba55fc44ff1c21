"""The energy-count kernels: numba and its numpy twin give the same counts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_energy_counts import run, tiny

from loihi_emu.runtime import energy_kernels as ek
from loihi_emu.runtime.energy_counts import COUNT_NAMES, count_events, structure


def csr(rng, n_src, max_items):
    cnt = rng.integers(0, max_items + 1, n_src)
    return np.concatenate([[0], np.cumsum(cnt)]).astype(np.int64)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 9), st.integers(0, 60))
def test_route_and_synapse_kernels_match_their_twins(seed, n_src, steps, n_events):
    rng = np.random.default_rng(seed)
    rows, n = 5, 7
    ev_t = rng.integers(0, steps, n_events).astype(np.int64)
    ev_s = rng.integers(0, n_src, n_events).astype(np.int64)
    r_ptr = csr(rng, n_src, 3)
    m = int(r_ptr[-1])
    cols = [rng.integers(0, rows, m) for _ in range(2)] + [rng.integers(0, 9, m) for _ in range(4)]
    outs = []
    for fn in (ek.route_events_numba, ek.route_events_numpy):
        out = np.zeros((6, steps, rows), np.int64)
        fn(ev_t, ev_s, r_ptr, *[c.astype(np.int64) for c in cols], out)
        outs.append(out)
    assert np.array_equal(*outs)
    assert outs[0][0].sum() == (r_ptr[ev_s + 1] - r_ptr[ev_s]).sum()  # one message per route of each spike
    s_ptr = csr(rng, n_src, 4)
    k = int(s_ptr[-1])
    tgt, delay = rng.integers(0, n, k).astype(np.int64), rng.integers(0, 4, k).astype(np.int64)
    marks = []
    for fn in (ek.mark_received_numba, ek.mark_received_numpy):
        rec = np.zeros((steps, n), np.bool_)
        fn(ev_t, ev_s, s_ptr, tgt, delay, rec)
        marks.append(rec)
    assert np.array_equal(*marks)


def test_the_numpy_twins_split_large_expansions_into_chunks(monkeypatch):
    monkeypatch.setattr(ek, "CHUNK", 3)
    test_route_and_synapse_kernels_match_their_twins.hypothesis.inner_test(5, 6, 4, 40)


def test_count_events_is_the_same_on_both_backends():
    image = tiny()
    inputs = np.zeros((7, 1), np.uint8)
    inputs[[0, 2, 5], 0] = 1
    emu = run(image, 7, inputs)
    s = structure(image)
    a = count_events(s, emu.data["spikes"], emu.data["v"], inputs.astype(bool), "numba")
    b = count_events(s, emu.data["spikes"], emu.data["v"], inputs.astype(bool), "numpy")
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in COUNT_NAMES)
