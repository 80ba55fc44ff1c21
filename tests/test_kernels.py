"""Each numba kernel against its plain numpy twin: identical bits on random inputs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from netgen import image_on_cores, random_network

from loihi_emu import LOIHI1, Emulator
from loihi_emu.runtime.flatten import StepArrays
from loihi_emu.runtime.kernels import (
    deliver_numba,
    deliver_numpy,
    slot_base,
    sources_numba,
    sources_numpy,
    update_numba,
    update_numpy,
)

S = LOIHI1


def _arrays(n, n_in=0, n_slots=1, indptr=None, tgt_delay=None, weight=None, fanout=None, **fields):
    """A StepArrays with zero state and registers, overridden by ``fields``."""
    z32 = np.zeros(n, np.int32)
    base = dict(
        n_slots=n_slots, decay_bits=S.decay_bits, q_bits=S.q_bits, u_bits=S.u_bits, w_shift=S.weight_shift,
        keep_u=z32, keep_v=z32, vth=z32, bias=z32, refract=z32, vmin=z32, vmax=z32,
        indptr=np.zeros((1, n_in + n + 1), np.int64) if indptr is None else indptr,
        tgt_delay=np.zeros(0, np.uint32) if tgt_delay is None else tgt_delay,
        weight=np.zeros(0, np.int16) if weight is None else weight,
        fanout=np.zeros(n_in + n, np.int64) if fanout is None else fanout,
        ring=np.zeros(n_slots * n, np.int32), u=z32.copy(), v=z32.copy(), cnt=z32.copy(),
        spiked=np.zeros(n, np.uint8), wraps=np.zeros(3, np.int64), first_wrap=np.zeros((3, 2), np.int64),
        src_buf=np.zeros(n_in + n, np.int64), spike_counts=np.zeros(n, np.int64),
    )
    base.update(fields)
    return StepArrays(**base)


def _copy(a):
    return a._replace(**{f: getattr(a, f).copy() for f in ("ring", "u", "v", "cnt", "spiked", "wraps", "first_wrap",
                                                             "src_buf", "spike_counts")})


def _random_state(rng, n, n_slots):
    return dict(
        ring=rng.integers(-(1 << 17), 1 << 17, n * n_slots).astype(np.int32),
        u=rng.integers(-(1 << 23), 1 << 23, n).astype(np.int32),
        v=rng.integers(-(1 << 23), 1 << 23, n).astype(np.int32),
        cnt=rng.integers(0, 4, n).astype(np.int32),
    )


def _random_regs(rng, n):
    vmin = rng.integers(-(1 << 23), 1, n).astype(np.int32)
    return dict(
        keep_u=rng.integers(0, 4096, n).astype(np.int32),
        keep_v=rng.integers(1, 4097, n).astype(np.int32),
        vth=(rng.integers(1, 1 << 17, n) << 6).astype(np.int32),
        bias=(rng.integers(-4095, 4096, n) << rng.integers(0, 8, n)).astype(np.int32),
        refract=rng.integers(1, 64, n).astype(np.int32),
        vmin=vmin,
        vmax=rng.integers(0, 1 << 23, n).astype(np.int32),
    )


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 5000), n_blocks=st.integers(1, 4),
       n_slots=st.integers(1, 5), t=st.integers(0, 100))
def test_update_kernel_matches_numpy_twin(seed, n, n_blocks, n_slots, t):
    rng = np.random.default_rng(seed)
    a0 = _arrays(n, n_slots=n_slots, indptr=np.zeros((n_blocks, n + 1), np.int64),
                 **_random_state(rng, n, n_slots), **_random_regs(rng, n))
    outs = []
    for fn in (update_numpy, update_numba):
        a = _copy(a0)
        fn(a, t)
        outs.append(a)
    a, b = outs
    for k in ("ring", "u", "v", "cnt", "spiked", "wraps", "first_wrap"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    slot = (t % n_slots) * n
    assert not a.ring[slot : slot + n].any()  # the slot of step t is consumed, the others are untouched
    np.testing.assert_array_equal(np.delete(a.ring, np.s_[slot : slot + n]), np.delete(a0.ring, np.s_[slot : slot + n]))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1025, 4000), n_blocks=st.integers(1, 3),
       n_hot=st.integers(1, 3))
def test_update_kernel_notes_rare_wraps_like_the_twin(seed, n, n_blocks, n_hot):
    """Quiet state with a few wrapping compartments anywhere: the vectorised update's redo of a chunk notes them."""
    rng = np.random.default_rng(seed)
    regs = _random_regs(rng, n)
    state = dict(ring=rng.integers(-64, 64, n).astype(np.int32), u=rng.integers(-999, 999, n).astype(np.int32),
                 v=np.zeros(n, np.int32), cnt=np.zeros(n, np.int32))
    hot = rng.choice(n, n_hot, replace=False)
    state["ring"][hot] = rng.choice([-1, 1], n_hot) * (1 << 17) - 1  # q wraps; u and u2 may follow
    state["u"][hot] = rng.integers(-(1 << 23), 1 << 23, n_hot)
    a0 = _arrays(n, indptr=np.zeros((n_blocks, n + 1), np.int64), **state, **regs)
    outs = []
    for fn in (update_numpy, update_numba):
        a = _copy(a0)
        fn(a, 3)
        outs.append(a)
    assert outs[0].wraps[0] >= 1
    for k in ("u", "v", "cnt", "spiked", "wraps", "first_wrap"):
        np.testing.assert_array_equal(getattr(outs[0], k), getattr(outs[1], k), err_msg=k)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_blocks=st.integers(1, 4), n_slots=st.integers(1, 63), t=st.integers(0, 200))
def test_deliver_kernel_matches_numpy_twin(seed, n_blocks, n_slots, t):
    rng = np.random.default_rng(seed)
    n, n_src, m = int(rng.integers(1, 300)), int(rng.integers(1, 200)), int(rng.integers(0, 3000))
    src_of = np.sort(rng.integers(0, n_src, m))
    tgt = rng.integers(0, n, m)
    block = tgt * n_blocks // n
    order = np.lexsort((src_of, block))
    src_of, tgt, block = src_of[order], tgt[order], block[order]
    indptr = np.empty((n_blocks, n_src + 1), np.int64)
    bstart = np.searchsorted(block, np.arange(n_blocks + 1))
    for b in range(n_blocks):
        indptr[b] = bstart[b] + np.searchsorted(src_of[bstart[b]:bstart[b + 1]], np.arange(n_src + 1))
    tgt_delay = ((tgt << 6) | rng.integers(0, n_slots, m)).astype(np.uint32)
    weight = rng.integers(-32768, 32768, m).astype(np.int16)
    src = np.unique(rng.integers(0, n_src, int(rng.integers(0, n_src + 1))))
    a0 = _arrays(n, n_in=n_src - n if n_src > n else 0, n_slots=n_slots, indptr=indptr, tgt_delay=tgt_delay,
                 weight=weight)
    rings = []
    for fn in (deliver_numpy, deliver_numba):
        a = _copy(a0)
        fn(a, t, src)
        rings.append(a.ring)
    np.testing.assert_array_equal(rings[0], rings[1])
    # and both equal a per-synapse sum written out by hand: delay d lands in the slot of step t + 1 + d
    want = np.zeros(n_slots * n, np.int64)
    sel = np.isin(src_of, src)
    slot = (t + 1 + (tgt_delay[sel] & 63).astype(np.int64)) % n_slots
    np.add.at(want, slot * n + tgt[sel], weight[sel].astype(np.int64))
    np.testing.assert_array_equal(rings[0], want.astype(np.int32))
    np.testing.assert_array_equal(slot_base(t, n_slots, n), ((t + 1 + np.arange(n_slots)) % n_slots) * n)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_sources_kernel_matches_numpy_twin(seed):
    rng = np.random.default_rng(seed)
    n, n_in = int(rng.integers(1, 200)), int(rng.integers(0, 50))
    spiked = (rng.random(n) < 0.3).astype(np.uint8)
    fanout = rng.integers(0, 1000, n_in + n).astype(np.int64)
    in_axons = np.unique(rng.integers(0, max(n_in, 1), int(rng.integers(0, n_in + 1)))).astype(np.int64)
    a0 = _arrays(n, n_in=n_in, fanout=fanout, spiked=spiked,
                 spike_counts=rng.integers(0, 9, n).astype(np.int64))
    outs = []
    for fn in (sources_numpy, sources_numba):
        a = _copy(a0)
        k, events = fn(a, in_axons)
        outs.append((a.src_buf[:k].copy(), int(events), a.spike_counts))
    (sa, ea, ca), (sb, eb, cb) = outs
    want = np.concatenate([in_axons, n_in + np.flatnonzero(spiked)])
    np.testing.assert_array_equal(sa, want)
    np.testing.assert_array_equal(sb, want)
    assert ea == eb == int(fanout[want].sum())
    np.testing.assert_array_equal(ca, a0.spike_counts + spiked)
    np.testing.assert_array_equal(cb, ca)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), extreme=st.booleans(), max_delay=st.sampled_from([0, 3, 62]))
def test_whole_run_numba_equals_numpy(seed, extreme, max_delay):
    regs, syn, inputs = random_network(seed, extreme=extreme, max_delay=max_delay)
    core_of = np.random.default_rng(seed).integers(0, 3, 40)
    image = image_on_cores(regs, syn, 6, core_of)
    runs = []
    for backend in ("numpy", "numba"):
        emu = Emulator(image, probes=["spikes", "u", "v"], backend=backend)
        emu.run(60, inputs)
        runs.append(emu)
    a, b = runs
    for k in ("spikes", "u", "v", "spike_events"):
        np.testing.assert_array_equal(a.data[k], b.data[k], err_msg=k)
    assert a.wraps == b.wraps
    assert a.synaptic_events == b.synaptic_events
