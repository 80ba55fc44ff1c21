"""Results do not depend on how compartments are split across cores (or threads)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from netgen import image_on_cores, random_network

from loihi_emu import Emulator


def _run(image, inputs, **kw):
    emu = Emulator(image, probes=["spikes", "u", "v"], **kw)
    emu.run(inputs.shape[0], inputs)
    return emu


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_cores=st.integers(2, 40), extreme=st.booleans())
def test_one_core_equals_many_cores(seed, n_cores, extreme):
    regs, syn, inputs = random_network(seed, extreme=extreme, max_delay=5)
    one = image_on_cores(regs, syn, 6, np.zeros(40, int))
    rng = np.random.default_rng(seed + 1)
    many = image_on_cores(regs, syn, 6, rng.integers(0, n_cores, 40) * 3 + 130)  # sparse ids, several chips
    assert len(one.cores) == 1 and len(many.cores) > 1
    a, b = _run(one, inputs), _run(many, inputs)
    for k in ("spikes", "u", "v", "spike_events"):
        np.testing.assert_array_equal(a.data[k], b.data[k], err_msg=k)
    assert a.wraps == b.wraps and a.synaptic_events == b.synaptic_events
    assert a.data["spikes"].any() or extreme  # the run is not trivially silent


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_thread_blocks_do_not_change_bits(seed):
    regs, syn, inputs = random_network(seed, max_delay=2)
    image = image_on_cores(regs, syn, 6, np.arange(40) % 4)
    a, b = _run(image, inputs, n_threads=1), _run(image, inputs, n_threads=3)
    for k in ("spikes", "u", "v"):
        np.testing.assert_array_equal(a.data[k], b.data[k], err_msg=k)
