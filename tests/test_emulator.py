"""Emulator API: inputs, probes, step(), wrap counting and strict mode."""

import numpy as np
import pytest
from netgen import image_on_cores, random_network

from loihi_emu import LOIHI1, Emulator, InputError, Probe, ProbeError, WrapError, build_image

S = LOIHI1


@pytest.fixture(scope="module")
def net():
    regs, syn, inputs = random_network(3, max_delay=3)
    return image_on_cores(regs, syn, 6, np.arange(40) % 3), inputs


def test_dense_inputs_equal_pairs_and_step_by_step(net):
    image, inputs = net
    a = Emulator(image, probes=["spikes", "v"])
    a.run(60, inputs)
    b = Emulator(image, probes=["spikes", "v"])
    b.run(60, np.argwhere(inputs))
    c = Emulator(image, probes=["spikes", "v"])
    for t in range(60):
        c.step(np.flatnonzero(inputs[t]))
    d = Emulator(image, probes=["spikes", "v"])
    d.run(25, inputs[:25])
    d.run(35, inputs[25:].astype(bool))
    for other in (b, c, d):
        np.testing.assert_array_equal(a.data["spikes"], other.data["spikes"])
        np.testing.assert_array_equal(a.data["v"], other.data["v"])
    assert a.t == d.t == 60


def test_probe_selection_and_subsampling(net):
    image, inputs = net
    full = Emulator(image, probes=["spikes", "u", "v"])
    full.run(60, inputs)
    sel = Emulator(image, probes=[Probe("v", compartments=(5, 2, 30), every=4), Probe("spikes", compartments=(2, 30))])
    sel.run(60, inputs)
    np.testing.assert_array_equal(sel.data["v"], full.data["v"][3::4][:, [5, 2, 30]])
    np.testing.assert_array_equal(sel.data["spikes"], full.data["spikes"][:, [2, 30]])
    ev = full.data["spike_events"]
    np.testing.assert_array_equal(ev, np.argwhere(full.data["spikes"]))
    ev_sel = sel.data["spike_events"]
    np.testing.assert_array_equal(ev_sel, ev[np.isin(ev[:, 1], [2, 30])])
    assert set(sel.data) == {"v", "spikes", "spike_events"}
    assert full.spike_counts.sum() == full.data["spikes"].sum()
    assert sum(full.core_spike_counts().values()) == full.spike_counts.sum()


def test_synaptic_events_count_spikes_times_fanout():
    image = build_image(dict(decay_u_reg=0, decay_v=0, vth_mant=1, bias_mant=100, bias_exp=6, refract=1,
                             vmin=0, vmax=S.v_max_limit), np.zeros(3, int), n_in=1,
                        syn_pre=[0, 0, 1, 1, 1], syn_post=[0, 1, 0, 1, 2], syn_wmant=[1, 1, 1, 1, 1])
    emu = Emulator(image, probes=["spikes"])
    emu.run(10, [(0, 0), (4, 0)])
    assert emu.synaptic_events == 2 * 2 + 3 * int(emu.data["spikes"][:, 0].sum())


@pytest.mark.parametrize(
    "inputs,fragment",
    [
        (np.zeros((5, 6), np.uint8), "shape (5, 6), expected [steps=10"),
        (np.full((10, 6), 2, np.uint8), "expected 0 or 1"),
        ([(0, 6)], "axon outside 0..5"),
        ([(10, 0)], "step outside 0..9"),
        ([(0.5, 1)], "must be integers"),
        (np.zeros((10, 3, 2)), "got shape (10, 3, 2)"),
    ],
)
def test_bad_inputs_name_the_item(net, inputs, fragment):
    image, _ = net
    emu = Emulator(image)
    with pytest.raises(InputError) as err:
        emu.run(10, inputs)
    assert fragment in str(err.value)
    assert emu.t == 0  # nothing ran


def test_bad_probes():
    regs, syn, _ = random_network(1)
    image = image_on_cores(regs, syn, 6, np.zeros(40, int))
    with pytest.raises(ProbeError, match="unknown quantity 'weight'"):
        Emulator(image, probes=["weight"])
    with pytest.raises(ProbeError, match="compartment 40 is outside 0..39"):
        Emulator(image, probes=[Probe("v", compartments=(1, 40))])
    with pytest.raises(ProbeError, match="two probes are named 'v'"):
        Emulator(image, probes=["v", Probe("v", every=2)])
    with pytest.raises(InputError, match="input axon 9 is outside 0..5"):
        Emulator(image).step([9])


def _wrapping_image():
    # compartment 1 (core 2) gets a huge bias: u2 = u + bias wraps only if u is near the top; make u wrap instead
    regs = dict(decay_u_reg=0, decay_v=0, vth_mant=S.vth_mant_max, bias_mant=0, bias_exp=0, refract=1,
                vmin=S.v_min_limit, vmax=S.v_max_limit)
    # axon 0: 40 maximal synapses onto compartment 1 -> q wraps at once;
    # axon 1: one maximal synapse (q = 2^21 - 8192, no q wrap) onto compartment 0 -> u wraps after 5 steps
    return build_image(regs, np.array([0, 2]), n_in=2, syn_pre=[0] * 40 + [1], syn_post=[1] * 40 + [0],
                       syn_wmant=[255] * 41, syn_wexp=7)


def test_wraps_are_counted_and_values_kept():
    only_u = Emulator(_wrapping_image(), probes=["u"])
    only_u.run(8, [(s, 1) for s in range(8)])
    assert only_u.wraps["q"] == 0 and only_u.wraps["u"] == 1
    u = only_u.data["u"][:, 0].astype(np.int64)
    q = (255 << 7) << S.weight_shift
    for t in range(1, 8):  # u keeps 4095/4096 and gains q; the one wrap shows as a drop of 2^24
        grown = -((-u[t - 1] * 4095) >> 12) if u[t - 1] < 0 else (u[t - 1] * 4095) >> 12
        assert u[t] - (grown + q) in (0, -(1 << 24))
    assert (u < 0).any()
    emu = Emulator(_wrapping_image(), probes=["u"])
    emu.run(6, [(s, a) for s in range(6) for a in (0, 1)])
    assert emu.wraps["q"] == 5 and emu.wraps["u"] > 0
    ref = Emulator(_wrapping_image(), probes=["u"], backend="numpy")
    ref.run(6, [(s, a) for s in range(6) for a in (0, 1)])
    np.testing.assert_array_equal(emu.data["u"], ref.data["u"])
    assert emu.wraps == ref.wraps


def test_strict_raises_on_first_wrap_naming_where():
    emu = Emulator(_wrapping_image(), strict=True)
    with pytest.raises(WrapError) as err:
        emu.run(6, [(s, 0) for s in range(6)])
    e = err.value
    assert (e.quantity, e.step, e.chip, e.core, e.compartment, e.global_index) == ("q", 1, 0, 2, 0, 1)
    assert "q wrapped in step 1 at chip 0 core 2 compartment 0" in str(e)
    assert e.value == 40 * (255 << 7) << S.weight_shift
