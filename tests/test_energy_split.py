"""Energy counts against the emulator's own counters, a brute-force recount, and other placements."""

from __future__ import annotations

import numpy as np
import pytest
from netgen import image_on_cores, random_network

from loihi_emu import Emulator, build_image
from loihi_emu.image.profiles import LearningProfile
from loihi_emu.runtime.energy_counts import counts_from_run, energy_probes

PLACEMENTS = {
    "one core": lambda n: np.zeros(n, np.int64),
    "four cores, two tiles": lambda n: np.arange(n) % 4 * 2,  # cores 0, 2 (tile 0), 4, 6 (tile 1)
    "three chips": lambda n: np.arange(n) % 3 * 128 + np.arange(n) % 5 * 9,
}


def counted(seed, place):
    regs, syn, inputs = random_network(seed, max_delay=3)
    regs["bias_mant"][::2] = 0  # half without bias: their activity comes from input and v alone
    n, n_in = regs["decay_v"].size, inputs.shape[1]
    image = image_on_cores(regs, syn, n_in, PLACEMENTS[place](n))
    emu = Emulator(image, probes=energy_probes())
    emu.run(inputs.shape[0], inputs)
    return regs, syn, inputs, emu, counts_from_run(image, emu.data, inputs)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_agree_with_the_emulator_and_a_brute_force_recount(seed):
    regs, syn, inputs, emu, c = counted(seed, "four cores, two tiles")
    spikes, v = emu.data["spikes"].astype(bool), emu.data["v"]
    steps, n = spikes.shape
    assert c.synaptic_events.sum() == emu.synaptic_events
    assert c.spikes[:, :-1].sum() == emu.spike_counts.sum()
    assert c.messages.sum() == c.messages_in.sum()
    # active, from the raw synapse list: input lands in step s + 1 + delay of a spike in step s
    src = np.concatenate([inputs.astype(bool), spikes], axis=1)
    received = np.zeros((steps, n), bool)
    for pre, post, d in zip(syn["syn_pre"], syn["syn_post"], syn["syn_delay"]):
        for s in np.flatnonzero(src[:, pre]):
            if s + 1 + d < steps:
                received[s + 1 + d, post] = True
    v_before = np.vstack([np.zeros((1, n), bool), v[:-1] != 0])
    active = v_before | received | (regs["bias_mant"] != 0)[None, :] | spikes
    assert received.any() and spikes.any() and not active.all()  # the recount has something to find
    assert c.active.sum(axis=1).tolist() == active.sum(axis=1).tolist()


@pytest.mark.parametrize("seed", [4, 5])
def test_placement_moves_messages_and_hops_but_not_the_work(seed):
    runs = {p: counted(seed, p) for p in PLACEMENTS}
    base = runs["one core"][4]
    for place, (*_, emu, c) in runs.items():
        assert np.array_equal(emu.data["spikes"], runs["one core"][3].data["spikes"]), place
        for k in ("compartments", "active", "spikes", "synaptic_events"):
            assert np.array_equal(getattr(c, k).sum(axis=1), getattr(base, k).sum(axis=1)), (place, k)
    assert base.ew_hops.sum() == base.ns_hops.sum() == base.chip_hops.sum() == 0
    three = runs["three chips"][4]
    assert three.chip_hops.sum() > 0 and three.messages.sum() > base.messages.sum()
    assert three.tiles_in_use > runs["four cores, two tiles"][4].tiles_in_use == 2


def test_learning_updates_against_a_brute_force_recount():
    rng = np.random.default_rng(11)
    n, n_in, m, epoch = 20, 8, 120, 3
    big = (1 << 23) - 1
    regs = dict(decay_u_reg=np.full(n, 3000), decay_v=np.full(n, 400), vth_mant=np.full(n, 60),
                bias_mant=np.full(n, 0), bias_exp=np.zeros(n, int), refract=np.ones(n, int),
                vmin=np.full(n, -big), vmax=np.full(n, big))
    pre = rng.choice(n_in + n, m)
    post = rng.integers(0, n, m)
    pre, post = np.unique(np.stack([pre, post], 1), axis=0).T  # one synapse per (source, target)
    prof = LearningProfile.from_rule("dw = 2^-2*x1*y0 - 2^-2*y1*x0", traces={"x1": (20, 5), "y1": (20, 5)},
                                     epoch=epoch)
    core_of = np.arange(n) % 2 * 7
    image = build_image(regs, core_of, n_in=n_in, syn_pre=pre, syn_post=post, syn_wmant=rng.integers(20, 120, pre.size),
                        syn_learning=0, learning_profiles=[prof])
    inputs = (rng.random((40, n_in)) < 0.3).astype(np.uint8)
    emu = Emulator(image, probes=energy_probes())
    emu.run(40, inputs)
    c = counts_from_run(image, emu.data, inputs)
    src = np.concatenate([inputs.astype(bool), emu.data["spikes"].astype(bool)], axis=1)
    expect = np.zeros((40, 2), np.int64)
    for t in range(epoch - 1, 40, epoch):
        window = src[max(t - epoch, 0) : t]
        hit = window[:, pre].any(0) | window[:, n_in + post].any(0)
        expect[t] = np.bincount(core_of[post][hit] // 7, minlength=2)
    assert expect.sum() > 0 and emu.spike_counts.sum() > 0
    assert np.array_equal(c.learning_updates[:, :2], expect)
    assert not c.learning_updates[:, 2].any()  # the inputs row learns nothing
