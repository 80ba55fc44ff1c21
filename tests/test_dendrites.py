"""Dendritic trees (docs/dendrites.md): each join op from first principles, invariances, errors, save/load."""

import dataclasses
import warnings

import numpy as np
import pytest

from compiler import Network
from compiler.errors import CapacityError, DendriteError
from compiler.simulator import Simulator
from loihi_emu import LOIHI1, Emulator, load, save
from loihi_emu.errors import ImageError

STEPS = 40


def _spikes_at(steps, *at):
    s = np.zeros((STEPS, 1), bool)
    s[list(at), 0] = True
    return s


def _net(branch_a, branch_b=None, at_a=(5,), at_b=(5,), soma=None, size=1):
    """A soma with one or two dendrites, each driven by its own input axon (weight 3 model units)."""
    net = Network("dend")
    tree = {"soma": soma or {}, "a": {"parent": "soma", **branch_a}}
    if branch_b is not None:
        tree["b"] = {"parent": "soma", **branch_b}
    net.add_input("xa", spikes=_spikes_at(STEPS, *at_a).repeat(size, 1))
    net.add_population("n", size, tau_u=1, tau_v=2, vth=2.0, v_scale=512.0, refractory=1, compartments=tree)
    net.connect("xa", "n", np.eye(size) * 3.0, compartment="a")
    if branch_b is not None:
        net.add_input("xb", spikes=_spikes_at(STEPS, *at_b).repeat(size, 1))
        net.connect("xb", "n", np.eye(size) * 3.0, compartment="b")
    return net


def _run(net, backend="numba", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulator(net, probes=[("n", "spikes"), ("n", "v"), ("n.a", "v")], backend=backend, **kw)
        sim.run(STEPS)
    return sim


def _soma_spike_steps(sim):
    return np.flatnonzero(sim.raw["n", "spikes"][:, 0]).tolist()


def test_add_child_input_alone_drives_the_soma():
    sim = _run(_net({"join": "add"}))
    assert _soma_spike_steps(sim) == [6]  # input of step 5 arrives in step 6: a.v = 3 > vth 2, same step
    assert sim.raw["n.a", "v"][6, 0] == 3 * 512  # the dendrite's v, joined whole


def test_block_cuts_the_branch_off():
    sim = _run(_net({"join": "block"}))
    assert _soma_spike_steps(sim) == [] and sim.raw["n.a", "v"][6, 0] == 3 * 512  # the dendrite still integrates
    assert not sim.raw["n", "v"].any()


@pytest.mark.parametrize("vth_a, fires", [(5.0, False), (2.0, True)])
def test_pass_joins_v_only_above_the_dendrites_threshold(vth_a, fires):
    sim = _run(_net({"join": "pass", "vth": vth_a}))
    assert _soma_spike_steps(sim) == ([6] if fires else [])


def test_or_is_a_spike_condition_not_a_voltage():
    sim = _run(_net({"join": "or", "vth": 2.0}))
    assert _soma_spike_steps(sim) == [6]
    assert not sim.raw["n", "v"].any()  # nothing entered the soma's voltage
    assert _soma_spike_steps(_run(_net({"join": "or", "vth": 5.0}))) == []


@pytest.mark.parametrize("at_b, fires", [((5,), True), ((7,), True), ((20,), False), ((), False)])
def test_and_fires_only_when_both_branches_hold_in_the_window(at_b, fires):
    slow = {"join": "and", "vth": 1.0, "tau_v": 8}  # v decays by 1/8 a step: stays above 1 for ~8 steps
    sim = _run(_net(slow, slow, at_a=(5,), at_b=at_b, soma={"refractory": 63}))
    got = _soma_spike_steps(sim)
    assert (len(got) == 1) == fires and (not got or got[0] == max(5, *at_b) + 1)


@pytest.mark.parametrize("op", ["add", "block", "pass", "or", "and"])
def test_numpy_backend_threads_and_float_reference_agree(op):
    net = _net({"join": op, "vth": 1.25, "tau_v": 2}, {"join": "add" if op != "and" else "and", "vth": 1.25},
               at_a=(3, 9, 20), at_b=(4, 9, 30), size=3)
    a, b = _run(net), _run(net, backend="numpy")
    for k in (("n", "spikes"), ("n", "v"), ("n.a", "v")):
        np.testing.assert_array_equal(a.raw[k], b.raw[k], err_msg=str(k))
    two = Emulator(a.image, probes=["spikes", "v"], n_threads=2)
    one = Emulator(a.image, probes=["spikes", "v"], n_threads=1)
    inp = a.input_array()
    one.run(STEPS, inp)
    two.run(STEPS, inp)
    np.testing.assert_array_equal(one.data["v"], two.data["v"])
    ref = a.reference()
    np.testing.assert_array_equal(ref.raw["n", "spikes"] if hasattr(ref, "raw") else ref.data["n", "spikes"],
                                  a.raw["n", "spikes"])
    assert a.raw["n", "spikes"].any() or op == "block"


def test_split_over_cores_changes_nothing():
    """Trees stay whole on a core; with 4 compartments a core the network spans several cores, same bits."""
    net = _net({"join": "add", "tau_v": 4}, {"join": "or", "vth": 1.5}, at_a=(3, 9), at_b=(9, 15))
    net.add_population("m", 6, tau_v=2, vth=1.0)
    net.connect("n", "m", np.ones((1, 6)) * 2.0)
    one = _run(net)
    many = _run(net, spec=dataclasses.replace(LOIHI1, compartments_per_core=4))
    assert len(one.image.cores) == 1 and len(many.image.cores) > 1
    assert one.report.trees == {"n": ["a", "b", "soma"]} and one.report.n_compartments == 3 + 6
    assert "n: 3 compartments per neuron (a, b, soma)" in one.report.to_text()
    tree_pieces = [p for p in many.report.pieces if p.population in ("n", "n.a", "n.b")]
    assert sorted(p.population for p in tree_pieces) == ["n", "n.a", "n.b"]
    assert len({(p.chip, p.core) for p in tree_pieces}) == 1  # the tree's compartments share one core
    for k in (("n", "spikes"), ("n", "v"), ("n.a", "v")):
        np.testing.assert_array_equal(one.raw[k], many.raw[k], err_msg=str(k))
    assert one.raw["n", "spikes"].any()


def test_a_tree_larger_than_a_core_is_a_clear_error():
    net = _net({"join": "add"}, size=3)
    with pytest.raises(CapacityError, match="population 'n'.*compartments per neuron"):
        _run(net, spec=dataclasses.replace(LOIHI1, compartments_per_core=4))


def test_save_and_load_run_the_same(tmp_path):
    sim = _run(_net({"join": "and", "vth": 1.0}, {"join": "and", "vth": 1.0}, at_b=(6,)))
    save(sim.image, tmp_path / "d.npz")
    back = load(tmp_path / "d.npz")
    assert [c.compartments.join_op.tolist() for c in back.cores] == [c.compartments.join_op.tolist()
                                                                     for c in sim.image.cores]
    a, b = (Emulator(im, probes=["spikes", "v"]) for im in (sim.image, back))
    for e in (a, b):
        e.run(STEPS, sim.input_array())
    np.testing.assert_array_equal(a.data["v"], b.data["v"])
    assert a.data["spikes"].any()


@pytest.mark.parametrize("tree, msg", [
    ({"soma": {}, "a": {"parent": "soma", "join": "xor"}}, "compartment 'a': unknown join 'xor'"),
    ({"soma": {}, "a": {"parent": "dend"}}, "compartment 'a': unknown parent 'dend'"),
    ({"soma": {}, "a": {}}, "exactly one root"),
    ({"soma": {}, "a": {"parent": "b"}, "b": {"parent": "a"}}, "cycle"),
    ({"soma": {}, "a": {"parent": "soma", "vth_mant": 3}}, "compartment 'a': unknown key 'vth_mant'"),
    ({"soma": {"join": "add"}}, "compartment 'soma': the root"),
])
def test_bad_trees_name_population_and_compartment(tree, msg):
    net = Network("bad")
    with pytest.raises(DendriteError, match=msg) as e:
        net.add_population("p", 2, compartments=tree)
    assert "'p'" in str(e.value) and not net.populations


def test_connect_checks_the_compartment():
    net = _net({"join": "add"})
    net.add_population("m", 1)
    with pytest.raises(DendriteError, match="population 'n' has no compartment 'c'"):
        net.connect("xa", "n", np.ones((1, 1)), compartment="c")
    with pytest.raises(DendriteError, match="'m'.*has none"):
        net.connect("xa", "m", np.ones((1, 1)), compartment="a")
    with pytest.raises(DendriteError, match="only the root sends spikes"):
        net.connect("n.a", "m", np.ones((1, 1)))
    assert len(net.projections) == 1


def test_image_rejects_bad_join_fields():
    from loihi_emu.image.build import build_image
    regs = {k: np.full(3, v) for k, v in dict(decay_u_reg=0, decay_v=0, vth_mant=10, bias_mant=0, bias_exp=0,
                                              refract=1, vmin=LOIHI1.v_min_limit, vmax=LOIHI1.v_max_limit).items()}
    syn = dict(n_in=0, syn_pre=np.zeros(0, int), syn_post=np.zeros(0, int), syn_wmant=np.zeros(0, int))
    for op, parent, core_of, msg in (([1, 0, 0], [2, -1, -1], [0, 0, 1], "compartment 0: join_parent 2 must be on "
                                      "the same core"),
                                     ([0, 1, 0], [-1, 0, -1], [0, 0, 0], "must be a later compartment"),
                                     ([7, 0, 0], [1, -1, -1], [0, 0, 0], "join_op 7")):
        with pytest.raises(ImageError, match=msg):
            build_image({**regs, "join_op": op, "join_parent": parent}, np.array(core_of), **syn)


def test_network_file_round_trip_and_errors(tmp_path):
    import json

    from compiler.errors import NetworkError
    from compiler.network.netfile import load_network, network_from_dict, save_network
    net = _net({"join": "and", "vth": 1.0, "tau_v": 8}, {"join": "and", "vth": 1.0}, at_b=(6,))
    save_network(net, tmp_path / "n.json")
    doc = json.loads((tmp_path / "n.json").read_text())
    assert [p["name"] for p in doc["populations"]] == ["xa", "n", "xb"]  # the tree is one entry
    a, b = _run(net), _run(load_network(tmp_path / "n.json"))
    np.testing.assert_array_equal(a.raw["n", "v"], b.raw["n", "v"])
    assert a.raw["n", "spikes"].any()
    bad = {"format": "loihi-net/1", "populations": [
        {"name": "p", "size": 2, "compartments": {"soma": {}, "d": {"parent": "soma", "join": "nand"}}}]}
    with pytest.raises(NetworkError, match="'p'.*compartment 'd': unknown join 'nand'"):
        network_from_dict(bad)
    bad = {"format": "loihi-net/1", "populations": [
        {"name": "x", "input": {"kind": "spikes", "spikes": None}, "size": 1},
        {"name": "p", "size": 1, "compartments": {"soma": {}}}],
        "projections": [{"pre": "x", "post": "p", "weights": [[1.0]], "compartment": "e"}]}
    with pytest.raises(NetworkError, match="population 'p' has no compartment 'e'"):
        network_from_dict(bad)


def test_saved_v5_file_with_joins_loads_and_runs_the_same():
    from pathlib import Path

    from loihi_emu.image import store

    data = Path(__file__).parent / "data"
    assert store.format_of(data / "board-v5.npz") == "loihi-image/5" == store.FORMAT
    want = dict(np.load(data / "board-v5-expected.npz"))
    image = load(data / "board-v5.npz")
    assert len(image.cores) == 2 and sorted({int(m) for c in image.cores for m in c.compartments.join_op}) == \
        [0, 1, 4, 5]
    for backend, threads in (("numba", 1), ("numba", 2), ("numpy", 1)):
        emu = Emulator(image, seed=5, probes=("spikes", "v"), backend=backend, n_threads=threads)
        emu.run(want["inputs"].shape[0], want["inputs"])
        for q in ("spikes", "v"):
            np.testing.assert_array_equal(emu.data[q], want[q], err_msg=f"{q} {backend} {threads}")
    # an older file has no join fields: every compartment loads as a root
    flat = load(data / "board-v4.npz")
    assert not any(c.compartments.join_op.any() for c in flat.cores)
