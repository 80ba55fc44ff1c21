"""Inputs in the board image: the program, its file storage, playback, and the one hash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import compiler as C
from loihi_emu import Emulator, load, save
from loihi_emu.errors import ImageFileError, InputWarning
from loihi_emu.image.input_eval import group_spikes, program_array
from loihi_emu.image.inputs import InputGroup, InputProgram
from loihi_emu.rng import uniform, uniform_python

DATA = Path(__file__).parent / "data"


def all_kinds_network() -> C.Network:
    rng = np.random.default_rng(1)
    net = C.Network("kinds")
    net.add_input("rate", encoder=C.RateEncoder(rng.uniform(0, 0.5, 5), seed=7))
    net.add_input("poisson", encoder=C.PoissonEncoder(rng.uniform(0, 300, 4), dt=0.001, seed=2))
    net.add_input("latency", encoder=C.LatencyEncoder(rng.uniform(0, 2, 3), tau=5.0, theta=0.5, offset=2))
    net.add_input("delta", encoder=C.DeltaEncoder(np.sin(np.arange(80)[:, None] / np.array([3.0, 7.0])), 0.2))
    net.add_input("train", spikes=rng.random((30, 3)) < 0.3)
    net.add_input("quiet", 2)
    net.add_population("p", 4, tau_u=2, tau_v=10, vth=1.0)
    for name in ("rate", "poisson", "latency", "delta", "train", "quiet"):
        net.connect(name, "p", np.full((net.population(name).size, 4), 0.4))
    return net


def test_program_is_bit_identical_to_input_array_in_any_step_range():
    net = all_kinds_network()
    prog = net.input_program()
    whole = net.input_array(60)
    assert np.array_equal(program_array(prog, 0, 60), whole)
    assert whole.sum() > 20  # the inputs do spike
    parts = np.concatenate([program_array(prog, a, b) for a, b in ((0, 7), (7, 8), (8, 41), (41, 60))])
    assert np.array_equal(parts, whole)
    assert prog.length is None  # rate / poisson / latency never end
    assert {g.kind for g in prog.groups} == {"rate", "poisson", "latency", "delta", "spikes", "silent"}


def test_python_uniform_matches_numpy():
    u = uniform(11, 2**62 + 5, np.arange(9)[:, None], np.arange(4)[None, :])
    assert all(u[t, i] == uniform_python(11, 2**62 + 5, t, i) for t in range(9) for i in range(4))


def test_program_length_is_finite_for_trains_and_signals():
    prog = InputProgram(5, (InputGroup("a", 0, 2, "spikes", params={"length": 12},
                                       arrays={"step": [0, 11], "channel": [1, 0]}),
                            InputGroup("b", 2, 2, "delta", params={"threshold": 0.1}, arrays={"signal": np.zeros((20, 1))}),
                            InputGroup("c", 4, 1, "silent")))
    assert prog.length == 20
    sp = group_spikes(prog.groups[0], 10, 15)
    assert sp.shape == (5, 2) and sp[1, 0] and sp.sum() == 1


@pytest.mark.parametrize("edit, fragment", [
    (lambda g: g.update(kind="noise"), "kind 'noise'"),
    (lambda g: g.update(size=0), "size = 0"),
    (lambda g: g.update(params={}), "missing ['length']"),
    (lambda g: g.update(first=4), "overlap"),
    (lambda g: g.pop("seed"), "must be an object with keys"),
])
def test_malformed_programs_name_the_group(edit, fragment):
    prog = InputProgram(5, (InputGroup("a", 0, 2, "spikes", params={"length": 3}, arrays={"step": [0], "channel": [1]}),))
    doc, arrays = prog.to_arrays()
    edit(doc["groups"][0])
    with pytest.raises(ImageFileError) as err:
        InputProgram.from_arrays(doc, arrays)
    assert fragment in str(err.value)


def test_bad_array_values_are_errors():
    with pytest.raises(ImageFileError, match="channel\\[0\\] = 9 is outside 0..1"):
        InputGroup("a", 0, 2, "spikes", params={"length": 3}, arrays={"step": [0], "channel": [9]})
    with pytest.raises(ImageFileError, match="p\\[1\\] = 2.0 is outside"):
        InputGroup("r", 0, 2, "rate", arrays={"p": [0.1, 2.0]})


def test_compiled_image_plays_its_inputs_and_round_trips(tmp_path):
    net = all_kinds_network()
    image, _ = C.compile(net)
    save(image, tmp_path / "kinds.npz")
    loaded = load(tmp_path / "kinds.npz")
    assert loaded.equals(image) and loaded.input_program.equals(net.input_program())
    given = Emulator(image, probes=["spikes", "v"])
    given.run(50, net.input_array(50))
    played = Emulator(loaded, probes=["spikes", "v"])
    played.run(20)
    played.run(30)  # continues from step 20
    assert played.synaptic_events == given.synaptic_events > 0
    assert np.array_equal(played.data["v"], given.data["v"])
    assert np.array_equal(played.data["spike_events"], given.data["spike_events"])
    stepped = Emulator(loaded)
    for _ in range(50):
        stepped.step()
    assert np.array_equal(stepped.spike_counts, given.spike_counts)


def test_no_input_at_all_warns_once():
    net = C.Network("silent")
    net.add_input("in", 3)
    net.add_population("p", 2)
    net.connect("in", "p", np.ones((3, 2)))
    image, _ = C.compile(net)
    emu = Emulator(image)
    with pytest.warns(InputWarning, match="3 input axons"):
        emu.run(5)
    emu.run(5, np.zeros((5, 3), np.uint8))  # explicit input: no warning needed


def test_saved_v1_and_v2_images_load_and_run_the_same():
    v1, v2 = load(DATA / "image-v1.npz"), load(DATA / "image-v2.npz")
    assert v1.input_program is None and v1.populations is None
    assert v2.input_program is not None and v2.populations.names == ["exc", "inh", "in", "late"]
    a = Emulator(v1, probes=["spikes", "v", "w"])
    a.run(80, program_array(v2.input_program, 0, 80))
    b = Emulator(v2, probes=["spikes", "v", "w"])
    b.run(80)
    assert int(b.spike_counts.sum()) > 10
    for k in ("v", "w", "spike_events"):
        assert np.array_equal(a.data[k], b.data[k])
    assert np.array_equal(v2.populations.plastic_target, b.plastic_synapses()["target"])
    assert np.array_equal(v2.populations.plastic_source, b.plastic_synapses()["source"])


def test_image_package_loads_no_numba():
    code = "import sys, loihi_emu.image, loihi_emu.rng, loihi_emu.image.popmap; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_float_reference_plays_the_network_inputs_too():
    net = all_kinds_network()
    a = C.FloatSimulator(net, probes=["spikes", "v"])
    a.run(25)
    a.run(35)
    b = C.FloatSimulator(net, probes=["spikes", "v"])
    b.run(60, net.input_array(60))
    assert b.spike_counts.sum() > 0
    np.testing.assert_array_equal(a.data["v"], b.data["v"])
