"""Energy counts from first principles: hand-computed counts on tiny images, hops of known placements."""

from __future__ import annotations

import numpy as np
import pytest

from loihi_emu import Emulator, build_image
from loihi_emu.errors import InputError, ProbeError
from loihi_emu.image.profiles import LearningProfile
from loihi_emu.runtime.energy_counts import COUNT_NAMES, counts_from_run, energy_probes, input_spikes
from loihi_emu.runtime.mesh import LOIHI1_MESH, MeshLayout
from loihi_emu.runtime.probes import Probe

BIG = (1 << 23) - 1


def regs(n, **kw):
    r = dict(decay_u_reg=4095, decay_v=0, vth_mant=1, bias_mant=0, bias_exp=0, refract=1, vmin=-BIG, vmax=BIG)
    r.update(kw)
    return {k: np.broadcast_to(np.asarray(v), (n,)).copy() for k, v in r.items()}


def tiny():
    """1 input, 5 compartments: c0, c1 on chip 0 core 0; c2 on core 4 (tile 1); c3 on core 16 (tile 4);
    c4 on chip 1 core 0. Threshold 64 (v units); weight 2 fires, weight 1 leaves v = 64. c4 has bias 1."""
    r = regs(5, bias_mant=[0, 0, 0, 0, 1])
    core_of = [0, 0, 4, 16, 128]
    # sources: input 0 is 0, compartment g is 1 + g
    pre = [0, 0, 1, 1, 1, 3]
    post = [0, 1, 2, 3, 4, 3]
    w = [2, 1, 2, 1, 2, 2]
    delay = [0, 0, 0, 0, 2, 0]
    return build_image(r, core_of, n_in=1, syn_pre=pre, syn_post=post, syn_wmant=w, syn_delay=delay)


def run(image, steps, inputs, **kw):
    emu = Emulator(image, probes=energy_probes(), **kw)
    emu.run(steps, inputs)
    return emu


def test_hand_computed_counts_of_a_tiny_image():
    image = tiny()
    inputs = np.zeros((5, 1), np.uint8)
    inputs[0, 0] = 1
    emu = run(image, 5, inputs)
    # the spikes the hand count assumes: c0 in step 1, c2 in 2, c3 in 3, c4 in 4
    assert [list(np.flatnonzero(row)) for row in emu.data["spikes"]] == [[], [0], [2], [3], [4]]
    c = counts_from_run(image, emu.data, inputs)
    assert c.labels == ("chip 0 core 0", "chip 0 core 4", "chip 0 core 16", "chip 1 core 0", "inputs")
    assert c.tiles_in_use == 4
    rows = lambda *r: np.array(r, np.int64)  # noqa: E731
    assert np.array_equal(c.compartments, np.tile([2, 1, 1, 1, 0], (5, 1)))
    # step 0: only the biased c4; 1: c0, c1 (input), c4; 2: c1 (v=64), c2, c3 (input), c4;
    # 3: c1, c3 (input), c4; 4: c1, c4 (input, delay 2)
    assert np.array_equal(c.active, rows([0, 0, 0, 1, 0], [2, 0, 0, 1, 0], [1, 1, 1, 1, 0], [1, 0, 1, 1, 0],
                                         [1, 0, 0, 1, 0]))
    assert np.array_equal(c.spikes, rows([0, 0, 0, 0, 1], [1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0],
                                         [0, 0, 0, 1, 0]))
    # input -> core 0 (one message, two synapses); c0 -> cores 4, 16 and chip 1 core 0; c2 -> core 16
    assert np.array_equal(c.messages, rows([0, 0, 0, 0, 1], [3, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0] * 5, [0] * 5))
    assert np.array_equal(c.messages_in, rows([1, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0] * 5, [0] * 5))
    assert np.array_equal(c.synaptic_events, rows([2, 0, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0] * 5,
                                                  [0] * 5))
    # core 0 -> core 4: 1 north-south; -> core 16: 1 east-west; -> chip 1: 8 east-west, one chip edge;
    # core 4 (column 0, row 1) -> core 16 (column 1, row 0): 1 + 1
    assert np.array_equal(c.ew_hops.sum(0), [9, 1, 0, 0, 0])
    assert np.array_equal(c.ns_hops.sum(0), [1, 1, 0, 0, 0])
    assert np.array_equal(c.chip_hops.sum(0), [1, 0, 0, 0, 0])
    assert not c.learning_updates.any()
    assert set(c.totals()) == set(COUNT_NAMES)


def test_pairs_and_dense_inputs_give_the_same_counts():
    image = tiny()
    dense = np.zeros((6, 1), np.uint8)
    dense[[0, 3], 0] = 1
    emu = run(image, 6, dense)
    a = counts_from_run(image, emu.data, dense)
    b = counts_from_run(image, emu.data, np.array([[0, 0], [3, 0]]))
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in COUNT_NAMES)
    assert a.spikes[:, -1].tolist() == [1, 0, 0, 1, 0, 0]


@pytest.mark.parametrize("src, dst, expect", [
    ((0, 0), (0, 0), (0, 0, 0)),
    ((0, 0), (0, 3), (0, 0, 0)),      # same tile
    ((0, 0), (0, 4), (0, 1, 0)),      # tile 1 is the next row
    ((0, 0), (0, 16), (1, 0, 0)),     # tile 4 is the next column
    ((0, 0), (0, 127), (7, 3, 0)),    # the far corner of the 8 x 4 mesh
    ((0, 127), (1, 0), (1, 3, 1)),    # chip 0's east edge to chip 1's west edge
    ((0, 0), (9, 0), (8, 4, 2)),      # chip 9 is column 1, row 1 of the board
])
def test_xy_hops_of_known_placements(src, dst, expect):
    got = LOIHI1_MESH.hops(src[0], src[1], dst[0], dst[1])
    assert tuple(int(x) for x in got) == expect


def test_mesh_geometry_is_a_parameter():
    mesh = MeshLayout(cores_per_tile=2, tiles_x=2, tiles_y=2, chips_x=1)
    assert int(mesh.tile_id(1, 3)) == 5
    assert tuple(int(x) for x in mesh.hops(0, 0, 1, 0)) == (0, 2, 1)  # chip 1 sits below chip 0


def test_learning_updates_follow_the_epoch_and_activity():
    # 2 inputs -> c0 with plastic synapses (epoch 2); input 0 spikes in step 1, nothing else ever spikes
    prof = LearningProfile.from_rule("dw = 2^-2*x1*y0", epoch=2, traces={"x1": (10, 4), "y1": (10, 4)})
    r = regs(1, vth_mant=1000)
    image = build_image(r, [0], n_in=2, syn_pre=[0, 1], syn_post=[0, 0], syn_wmant=[1, 1], syn_learning=[0, 0],
                        learning_profiles=[prof])
    inputs = np.zeros((8, 2), np.uint8)
    inputs[1, 0] = 1
    emu = run(image, 8, inputs)
    c = counts_from_run(image, emu.data, inputs)
    # epochs end in steps 1, 3, 5, 7; the spike of step 1 arrives in step 2, in the epoch ending in step 3,
    # where only the synapse of input 0 is evaluated
    assert c.learning_updates[:, 0].tolist() == [0, 0, 0, 1, 0, 0, 0, 0]


def test_a_due_uk_product_evaluates_every_synapse_of_its_profile():
    prof = LearningProfile.from_rule("dw = 2^-2*u1*w", epoch=1)
    image = build_image(regs(1, vth_mant=1000), [0], n_in=2, syn_pre=[0, 1], syn_post=[0, 0], syn_wmant=[1, 1],
                        syn_learning=[0, 0], learning_profiles=[prof])
    emu = run(image, 5, None)
    c = counts_from_run(image, emu.data, None)
    assert c.learning_updates[:, 0].tolist() == [2, 0, 2, 0, 2]  # u1 ticks in even steps


def test_missing_probes_and_bad_inputs_are_typed_errors():
    image = tiny()
    emu = Emulator(image, probes=["spikes"])
    emu.run(3)
    with pytest.raises(ProbeError, match="'v' probe"):
        counts_from_run(image, emu.data)
    with pytest.raises(InputError, match="outside"):
        input_spikes(np.array([[5, 0]]), 3, 1)
    with pytest.raises(InputError):
        input_spikes(np.zeros((2, 3), np.uint8), 3, 1)


def test_energy_probes_reuse_full_probes_and_rename_around_partial_ones():
    assert [p.key for p in energy_probes()] == ["spikes", "v"]
    assert [p.key for p in energy_probes(["spikes", "u"])] == ["spikes", "u", "v"]
    partial = energy_probes([Probe("v", compartments=(0,))])
    assert [p.key for p in partial] == ["v", "spikes", "energy_v"]
    image = tiny()
    emu = Emulator(image, probes=partial)
    emu.run(2)
    assert counts_from_run(image, emu.data).steps == 2
