"""Dendritic joins in the update stage (docs/dendrites.md): numba kernels against their numpy twin."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kernels import _arrays, _copy, _random_regs, _random_state

from loihi_emu.image.joins import JOIN_ADD, JOIN_AND, JOIN_NONE
from loihi_emu.runtime.joins import join_arrays, join_scratch
from loihi_emu.runtime.kernels import _update_parallel, update_numba, update_numpy


def random_forest(rng, n, max_tree=6):
    """Join ops and global parents of random trees laid side by side: children before their parent, root last."""
    op, parent = np.zeros(n, np.uint8), np.full(n, -1, np.int64)
    i = 0
    while i < n:
        k = int(min(n - i, rng.integers(1, max_tree + 1)))
        for j in range(i, i + k - 1):  # every non-root of the tree: a parent later in the same tree
            parent[j] = rng.integers(j + 1, i + k)
            op[j] = rng.integers(JOIN_ADD, JOIN_AND + 1)
        i += k
    return op, parent


def join_fields(op, parent):
    return dict(has_joins=1, **join_arrays(op, parent), **join_scratch(op.size))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 600), n_blocks=st.integers(1, 4), t=st.integers(0, 1000),
       small=st.booleans())
def test_update_kernels_with_joins_match_numpy_twin(seed, n, n_blocks, t, small):
    rng = np.random.default_rng(seed)
    state = _random_state(rng, n, 1)
    regs = _random_regs(rng, n)
    if small:  # small values: thresholds are crossed and conditions vary, not just saturated wraps
        state = {k: (v >> 12).astype(np.int32) if k != "cnt" else v for k, v in state.items()}
        regs["vth"] = (rng.integers(1, 64, n) << 6).astype(np.int32)
        regs["bias"] = (regs["bias"] >> 6).astype(np.int32)
    a0 = _arrays(n, indptr=np.zeros((n_blocks, n + 1), np.int64), **state, **regs,
                 **join_fields(*random_forest(rng, n)))
    outs = []
    for fn in (update_numpy, update_numba, _update_parallel):
        a = _copy(a0)._replace(join_acc=a0.join_acc.copy(), join_hits=a0.join_hits.copy(), join_or=a0.join_or.copy())
        fn(a, t)
        assert not a.join_acc.any() and not a.join_hits.any() and not a.join_or.any() or fn is update_numpy
        outs.append(a)
    for o in outs[1:]:
        for k in ("u", "v", "cnt", "spiked", "wraps", "first_wrap"):
            np.testing.assert_array_equal(getattr(outs[0], k), getattr(o, k), err_msg=k)
    dend = a0.join_op != JOIN_NONE
    assert not outs[0].spiked[dend].any()  # dendrites never spike


def test_join_cut_never_splits_a_tree():
    op, parent = np.array([1, 1, 0, 0, 5, 0], np.uint8), np.array([2, 2, -1, -1, 5, -1])
    cut = join_arrays(op, parent)["join_cut"]
    assert cut.tolist() == [1, 0, 0, 1, 1, 0, 1]
    lv = join_arrays(np.array([1, 1, 0], np.uint8), np.array([1, 2, -1]))["join_level"]
    assert lv.tolist() == [0, 1, 2]
