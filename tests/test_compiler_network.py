"""Network description: validation errors, JSON round trip, per-compartment graphs."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest

import compiler as C
from compiler.network.netfile import load_network, save_network
from loihi_emu.errors import LoihiError


def small_net() -> C.Network:
    net = C.Network("small")
    net.add_input("in", 4)
    net.add_population("a", 5, tau_u=2, tau_v=10, vth=1.0)
    net.add_population("b", 3, vth=2.0, bias=0.1, vmin=-1.0, vmax=5.0)
    return net


BAD_POPULATIONS = [
    (dict(tau_u=-1.0), C.ParameterError, "tau_u"),
    (dict(tau_v=0.5), C.ParameterError, "tau_v"),
    (dict(vth=0.0), C.ParameterError, "vth"),
    (dict(vth=np.nan), C.ParameterError, "vth"),
    (dict(bias=np.inf), C.ParameterError, "bias"),
    (dict(refractory=0), C.ParameterError, "refractory"),
    (dict(refractory=64), C.ParameterError, "refractory"),
    (dict(refractory=1.5), C.ParameterError, "refractory"),
    (dict(vmin=0.5), C.ParameterError, "vmin"),
    (dict(vmax=-0.5), C.ParameterError, "vmax"),
    (dict(decay_v=4096), C.ParameterError, "decay_v"),
    (dict(decay_v_reg=4096), C.ParameterError, "decay_v_reg"),
    (dict(decay_u=0.5, decay_u_reg=3), C.ParameterError, "not both"),
    (dict(tau_convention="nengo"), C.ParameterError, "tau_convention"),
    (dict(vth=np.ones(3)), C.ShapeError, "vth"),
    (dict(v_scale=-2.0), C.ParameterError, "v_scale"),
    (dict(colour="red"), C.ParameterError, "colour"),
]


@pytest.mark.parametrize("params,error,word", BAD_POPULATIONS)
def test_bad_population_names_item_and_changes_nothing(params, error, word):
    net = small_net()
    before = list(net.graph.nodes)
    with pytest.raises(error) as info:
        net.add_population("c", 5, **params)
    assert "'c'" in str(info.value) and word in str(info.value)
    assert isinstance(info.value, LoihiError) and isinstance(info.value, ValueError)
    assert list(net.graph.nodes) == before


def test_bad_size_and_duplicate_name():
    net = small_net()
    with pytest.raises(C.ParameterError, match="size"):
        net.add_population("c", 0)
    with pytest.raises(C.DuplicateError, match="'a'"):
        net.add_population("a", 2)


BAD_PROJECTIONS = [
    (dict(weights=np.ones((5, 4))), C.ShapeError, "shape"),
    (dict(weights=np.full((5, 3), np.inf)), C.ParameterError, "not finite"),
    (dict(sparse=([0, 1], [0, 3], [1.0, 1.0])), C.ParameterError, "post_index"),
    (dict(sparse=([0, 5], [0, 1], [1.0, 1.0])), C.ParameterError, "pre_index"),
    (dict(sparse=([0, 1], [0, 1], [1.0, np.nan])), C.ParameterError, "weight"),
    (dict(sparse=([0, 1], [0, 1, 2], [1.0, 1.0])), C.ShapeError, "post_index"),
    (dict(weights=np.ones((5, 3)), delay=63), C.ParameterError, "delay"),
    (dict(weights=np.ones((5, 3)), delay=-1), C.ParameterError, "delay"),
    (dict(weights=np.ones((5, 3)), delay=1.5), C.ParameterError, "delay"),
    (dict(weights=np.ones((5, 3)), delay=np.zeros(4)), C.ShapeError, "delay"),
    (dict(weights=-np.ones((5, 3)), sign_mode="excitatory"), C.ParameterError, "negative"),
    (dict(weights=np.ones((5, 3)), sign_mode="both"), C.ParameterError, "sign_mode"),
    (dict(weights=np.ones((5, 3)), weight_bits=9), C.ParameterError, "weight_bits"),
    (dict(weights=np.ones((5, 3)), weight_exp=8), C.ParameterError, "weight_exp"),
    (dict(), C.ParameterError, "either"),
]


@pytest.mark.parametrize("kw,error,word", BAD_PROJECTIONS)
def test_bad_projection_names_item_and_changes_nothing(kw, error, word):
    net = small_net()
    with pytest.raises(error) as info:
        net.connect("a", "b", **kw)
    assert "'a' -> 'b'" in str(info.value) and word in str(info.value)
    assert net.graph.number_of_edges() == 0


def test_unknown_population_duplicate_projection_and_input_target():
    net = small_net()
    with pytest.raises(C.UnknownPopulationError, match="'zz'"):
        net.connect("a", "zz", weights=np.ones((5, 1)))
    net.connect("a", "b", weights=np.ones((5, 3)))
    with pytest.raises(C.DuplicateError, match="'a' -> 'b'"):
        net.connect("a", "b", weights=np.ones((5, 3)))
    with pytest.raises(C.NetworkError, match="input population"):
        net.connect("a", "in", weights=np.ones((5, 4)))


def test_dense_zeros_make_no_synapse_and_dense_delay_follows_entries():
    net = small_net()
    w = np.zeros((5, 3))
    w[1, 2], w[4, 0] = 0.5, -0.25
    d = np.zeros((5, 3), int)
    d[1, 2], d[4, 0] = 7, 3
    p = net.connect("a", "b", weights=w, delay=d)
    assert p.n == 2
    got = sorted(zip(p.pre_index.tolist(), p.post_index.tolist(), p.weight.tolist(), p.delays().tolist()))
    assert got == [(1, 2, 0.5, 7), (4, 0, -0.25, 3)]


def test_input_population_errors():
    net = small_net()
    with pytest.raises(C.ShapeError, match="'x'"):
        net.add_input("x", 3, spikes=np.zeros((10, 4), bool))
    with pytest.raises(C.ParameterError, match="'x'"):
        net.add_input("x", 2, spikes=np.full((10, 2), 2))
    with pytest.raises(C.ShapeError):
        net.input_array(5, {"in": np.zeros((5, 3), bool)})
    with pytest.raises(C.UnknownPopulationError):
        net.input_array(5, {"nope": np.zeros((5, 3), bool)})


def test_numbering_and_input_array():
    net = small_net()
    net.add_input("in2", spikes=np.eye(3, dtype=bool))
    assert net.compartment_ranges() == {"a": (0, 5), "b": (5, 3)}
    assert net.input_axons() == {"in": (0, 4), "in2": (4, 3)}
    arr = net.input_array(5, {"in": np.ones((5, 4), bool)})
    assert arr.shape == (5, 7) and arr.dtype == np.uint8
    assert arr[:, :4].all() and np.array_equal(arr[:3, 4:], np.eye(3)) and not arr[3:, 4:].any()


def rich_net() -> C.Network:
    rng = np.random.default_rng(3)
    net = C.Network("rich")
    net.add_input("rate", encoder=C.RateEncoder(rng.random(30), seed=4))
    net.add_input("lat", encoder=C.LatencyEncoder([0.2, 0.9, 2.0], tau=4.0, theta=0.5))
    net.add_input("delta", encoder=C.DeltaEncoder(np.sin(np.arange(50) / 5)[:, None], threshold=0.2))
    net.add_input("raw", spikes=rng.random((20, 2)) < 0.5)
    net.add_population("a", 40, tau_u=rng.uniform(1, 9, 40), tau_v=np.inf, vth=1.5, bias=rng.normal(0, 0.05, 40),
                       refractory=3, vmin=-2.0)
    net.add_population("b", 7, decay_u_reg=100, decay_v_reg=200, vth=0.7)
    net.connect("rate", "a", weights=(rng.random((30, 40)) < 0.3) * rng.normal(0, 1, (30, 40)), delay=2)
    net.connect("a", "b", sparse=(rng.integers(0, 40, 60), rng.integers(0, 7, 60), rng.random(60)),
                delay=rng.integers(0, 5, 60), weight_bits=5, learning_rule="dw = 2^-2*x1*y0",
                traces={"x1": (20, 5)})
    net.connect("lat", "b", weights=np.ones((3, 7)))
    net.connect("delta", "a", weights=np.full((2, 40), -0.5))
    net.connect("raw", "a", weights=np.full((2, 40), 0.5))
    return net


def test_json_round_trip(tmp_path):
    net = rich_net()
    save_network(net, tmp_path / "net.json")
    doc = json.loads((tmp_path / "net.json").read_text())
    assert doc["format"] == "loihi-net/1" and doc["arrays"] == "net.npz"
    back = load_network(tmp_path / "net.json")
    assert [p.name for p in back.populations] == ["a", "b"]
    assert back.input_axons() == net.input_axons()
    assert np.array_equal(back.input_array(50), net.input_array(50))
    for p, q in zip(net.projections, back.projections):
        assert (p.pre, p.post, p.weight_bits, p.learning_rule, p.traces) == (
            q.pre, q.post, q.weight_bits, q.learning_rule, q.traces)
        assert np.array_equal(p.weight, q.weight) and np.array_equal(p.delays(), q.delays())
    for p, q in zip(net.populations, back.populations):
        for k, v in p.params().items():
            assert np.array_equal(np.asarray(v), np.asarray(q.params()[k])), k
    img1, _ = C.compile(net)
    img2, _ = C.compile(back)
    assert img1.equals(img2)


def test_json_inline_example_and_errors(tmp_path):
    doc = {
        "format": "loihi-net/1", "name": "tiny",
        "populations": [
            {"name": "in", "size": 2, "input": {"kind": "rate", "intensity": [0.5, 0.1], "seed": 3}},
            {"name": "out", "size": 2, "tau_u": 2, "tau_v": "inf", "vth": 1.0},
        ],
        "projections": [{"pre": "in", "post": "out", "weights": [[1.0, 0.0], [0.0, 0.5]], "delay": 1}],
    }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(doc))
    net = load_network(path)
    assert net.n_synapses == 2 and np.isinf(net.populations[0].tau_v).all()
    bad = dict(doc, projections=[{"pre": "in", "post": "out", "weights": "@missing"}])
    path.write_text(json.dumps(bad))
    with pytest.raises(C.NetworkFileError, match="missing"):
        load_network(path)
    path.write_text(json.dumps(dict(doc, format="other")))
    with pytest.raises(C.NetworkFileError, match="format"):
        load_network(path)
    path.write_text("{not json")
    with pytest.raises(C.NetworkFileError, match="JSON"):
        load_network(path)
    bad = dict(doc, populations=[dict(doc["populations"][1], colour=1)])
    path.write_text(json.dumps(bad))
    with pytest.raises(C.NetworkFileError, match="colour"):
        load_network(path)


def test_compartment_graph_conversion_and_json_graph_form(tmp_path):
    g = nx.DiGraph()
    g.add_node("x", kind="input", spike_times=[0, 2])
    g.add_node("n1", vth=1.0, tau_v=4)
    g.add_node("n2", vth=2.0)
    g.add_edge("x", "n1", weight=1.5)
    g.add_edge("n1", "n2", weight=2.5, delay=3)
    net = C.as_network(g)
    assert net.node_index == {"x": ("inputs", 0), "n1": ("compartments", 0), "n2": ("compartments", 1)}
    pop = net.populations[0]
    assert np.array_equal(pop.vth, [1.0, 2.0]) and np.array_equal(pop.tau_v, [4.0, np.inf])
    assert np.array_equal(net.input_array(3)[:, 0], [1, 0, 1])
    (p_in, p_rec) = net.projections
    assert p_in.weight.tolist() == [1.5] and p_rec.delays().tolist() == [3]
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"format": "loihi-net/1", "graph": nx.node_link_data(g, edges="edges")}))
    img_a, _ = C.compile(g)
    img_b, _ = C.compile(path)
    assert img_a.equals(img_b)


@pytest.mark.parametrize("mutate,error,word", [
    (lambda g: g.add_node("n3", colour=1), C.ParameterError, "n3"),
    (lambda g: g.add_edge("n2", "x", weight=1.0), C.NetworkError, "'x'"),
    (lambda g: g.add_edge("n2", "n1"), C.ParameterError, "weight"),
    (lambda g: g.add_edge("n2", "n1", weight=float("nan")), C.ParameterError, "'n2' -> 'n1'"),
    (lambda g: g.add_edge("n2", "n1", weight=1.0, delay=99), C.ParameterError, "'n2' -> 'n1'"),
])
def test_compartment_graph_errors(mutate, error, word):
    g = nx.DiGraph()
    g.add_node("x", kind="input")
    g.add_node("n1")
    g.add_node("n2")
    g.add_edge("x", "n1", weight=1.0)
    mutate(g)
    with pytest.raises(error, match=word):
        C.as_network(g)


def test_missing_or_binary_network_file_is_a_typed_error(tmp_path, capsys):
    from compiler.errors import NetworkFileError
    from compiler.network.netfile import load_network
    from loihi_cli.main import main

    with pytest.raises(NetworkFileError, match="cannot be read"):
        load_network(tmp_path / "missing.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(NetworkFileError):
        load_network(tmp_path / "bin.json")
    assert main(["compile", str(tmp_path / "missing.json"), "-o", str(tmp_path / "b.npz")]) == 1
    assert "NetworkFileError" in capsys.readouterr().err
