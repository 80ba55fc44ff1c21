"""Each numba kernel against its plain numpy twin: identical bits on random inputs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from netgen import image_on_cores, random_network

from loihi_emu import LOIHI1, Emulator
from loihi_emu.runtime.kernels import deliver_numba, deliver_numpy, update_numba, update_numpy

S = LOIHI1


def _random_state(rng, n):
    return dict(
        acc=rng.integers(-(1 << 17), 1 << 17, n).astype(np.int32),
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
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 5000))
def test_update_kernel_matches_numpy_twin(seed, n):
    rng = np.random.default_rng(seed)
    state, regs = _random_state(rng, n), _random_regs(rng, n)
    outs = []
    for fn in (update_numpy, update_numba):
        st_ = {k: v.copy() for k, v in state.items()}
        spiked = np.zeros(n, np.uint8)
        wraps = np.zeros(3, np.int64)
        first = np.zeros((3, 2), np.int64)
        fn(st_["acc"], st_["u"], st_["v"], st_["cnt"], regs["keep_u"], regs["keep_v"], regs["vth"], regs["bias"],
           regs["refract"], regs["vmin"], regs["vmax"], spiked, wraps, first, S.decay_bits, S.q_bits, S.u_bits,
           S.weight_shift)
        outs.append((st_, spiked, wraps, first))
    (a, sa, wa, fa), (b, sb, wb, fb) = outs
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    np.testing.assert_array_equal(sa, sb)
    np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(fa, fb)
    assert not a["acc"].any()  # the slot is consumed


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_blocks=st.integers(1, 4), n_slots=st.integers(1, 63))
def test_deliver_kernel_matches_numpy_twin(seed, n_blocks, n_slots):
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
    slot_base = (rng.permutation(n_slots) * n).astype(np.int64)
    src = np.unique(rng.integers(0, n_src, int(rng.integers(0, n_src + 1))))
    rings = []
    for fn in (deliver_numpy, deliver_numba):
        ring = np.zeros(n_slots * n, np.int32)
        fn(src, indptr, tgt_delay, weight, ring, slot_base)
        rings.append(ring)
    np.testing.assert_array_equal(rings[0], rings[1])
    # and both equal a per-synapse sum written out by hand
    want = np.zeros(n_slots * n, np.int64)
    sel = np.isin(src_of, src)
    np.add.at(want, slot_base[(tgt_delay[sel] & 63).astype(np.int64)] + tgt[sel], weight[sel].astype(np.int64))
    np.testing.assert_array_equal(rings[0], want.astype(np.int32))


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
