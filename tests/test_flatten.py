"""flatten(): the per-block source CSRs hold exactly the synapses every route reaches (checked against a
plain expansion of the routes), for any number of blocks, shared rows and plastic formats."""

from __future__ import annotations

import numpy as np
import pytest
from netgen import image_on_cores, random_network

from loihi_emu import Image
from loihi_emu.image.core import RouteTable
from loihi_emu.runtime.flatten import effective_weights, flatten
from loihi_emu.runtime.kernels import DELAY_FIELD


def reference_edges(image: Image) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(block-free) source -> sorted (tgt_delay, weight) of every static synapse its routes reach."""
    n_in = image.n_inputs
    out: dict[int, list] = {}
    tables = [(image.inputs, range(n_in))] + [(c.routes, n_in + c.compartments.global_index) for c in image.cores]
    for routes, srcs in tables:
        for i, src in enumerate(srcs):
            for r in range(routes.ptr[i], routes.ptr[i + 1]):
                core = image.core_at(int(routes.dest_chip[r]), int(routes.dest_core[r]))
                s, f = core.synapses, core.formats
                a = int(routes.dest_axon[r])
                for j in range(s.axon_ptr[a], s.axon_ptr[a + 1]):
                    if f.plastic[s.fmt[j]]:
                        continue
                    g = int(core.compartments.global_index[s.target[j]])
                    w = int(effective_weights(s.wmant[j : j + 1], s.fmt[j : j + 1], f, image.spec)[0])
                    out.setdefault(int(src), []).append(((g << DELAY_FIELD) | int(s.delay[j]), w))
    return {k: sorted(v) for k, v in out.items()}


def _flat_edges(net, n_src):
    got: dict[int, list] = {}
    for b in range(net.indptr.shape[0]):
        for src in range(n_src):
            lo, hi = net.indptr[b, src], net.indptr[b, src + 1]
            got.setdefault(src, []).extend(zip(net.tgt_delay[lo:hi].tolist(), net.weight[lo:hi].tolist()))
            tgt = net.tgt_delay[lo:hi] >> DELAY_FIELD
            assert ((tgt * net.indptr.shape[0] // net.n) == b).all()  # block = target range
    return {k: sorted(v) for k, v in got.items() if v}


def _with_shared_rows(image: Image) -> Image:
    """Add input routes onto axons that compartments already reach (two sources, one row)."""
    c = image.cores[-1]
    extra = np.array([0, 1, 0], np.int32)
    ins = image.inputs
    counts = np.diff(ins.ptr)
    counts[0] += extra.size
    ptr = np.concatenate([[0], np.cumsum(counts)])
    ins = RouteTable(ptr, np.concatenate([np.full(extra.size, c.chip, np.int32), ins.dest_chip]),
                     np.concatenate([np.full(extra.size, c.index, np.int32), ins.dest_core]),
                     np.concatenate([extra, ins.dest_axon]))
    return Image(image.cores, ins, image.spec)


@pytest.mark.parametrize("seed,n_blocks,shared", [(0, 1, False), (1, 3, False), (2, 2, True), (3, 1, True)])
def test_flat_csr_holds_every_reached_synapse(seed, n_blocks, shared):
    regs, syn, _ = random_network(seed, max_delay=5)
    image = image_on_cores(regs, syn, 6, np.arange(40) % 3 + (np.arange(40) % 3 == 2) * 128)
    if shared:
        image = _with_shared_rows(image)
    net = flatten(image, n_blocks)
    n_src = image.n_inputs + image.n_compartments
    want = reference_edges(image)
    assert _flat_edges(net, n_src) == want
    assert net.fanout.tolist() == [len(want.get(s, [])) for s in range(n_src)]
    assert net.n_slots == max(int(c.synapses.delay.max()) for c in image.cores if c.synapses.n) + 1
    assert net.tgt_delay.dtype == np.uint32 and net.weight.dtype == np.int16


def test_plastic_synapses_stay_out_of_the_static_csr():
    from test_learning_engine import plastic_net

    *_, image, _ = plastic_net(5, core_of=np.arange(14) % 2)
    net = flatten(image, 2)
    assert _flat_edges(net, image.n_inputs + image.n_compartments) == reference_edges(image)
    n_plastic = sum(int(c.formats.plastic[c.synapses.fmt].sum()) for c in image.cores)
    assert 0 < n_plastic and net.tgt_delay.size < image.n_synapses


@pytest.mark.parametrize("seed", range(4))
def test_place_numba_matches_its_numpy_twin(seed):
    from loihi_emu.runtime.flatten import place_numba, place_numpy

    rng = np.random.default_rng(seed)
    n_keys, m = int(rng.integers(1, 30)), int(rng.integers(0, 400))
    key = rng.integers(0, n_keys, m).astype(np.int64)
    counts = np.bincount(key, minlength=n_keys)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]) + int(rng.integers(0, 5))
    values = rng.integers(0, 2**32, m, dtype=np.uint64).astype(np.uint32)
    weights = rng.integers(-(2**15), 2**15, m).astype(np.int16)
    out = []
    for fn in (place_numpy, place_numba):
        cur = start.copy()
        td, w = np.zeros(m + 5, np.uint32), np.zeros(m + 5, np.int16)
        fn(key, cur, values, weights, td, w)
        out.append((cur, td, w))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(out[0][0], start + counts)
