"""Issue 10, Python API: wrong kinds, sizes and values are typed errors before anything changes."""

import warnings

import numpy as np
import pytest

import compiler as C
from compiler.errors import (
    CapacityError,
    EncoderError,
    NetworkError,
    ParameterError,
    PlacementError,
    ShapeError,
    UnknownPopulationError,
)
from loihi_emu import Emulator
from loihi_emu.errors import InputError, ProbeError, SizeError, UsageError
from loihi_emu.runtime.probes import Probe


def net3():
    net = C.Network()
    net.add_input("in", 3)
    net.add_population("a", 4)
    return net


@pytest.fixture(scope="module")
def image():
    net = net3()
    net.connect("in", "a", np.ones((3, 4)), delay=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return C.compile(net)[0]


NETWORK_CASES = [
    (lambda n: n.connect("in", "a", sparse=3), ParameterError, "sparse must be a tuple"),
    (lambda n: n.connect("in", "a", [[1, 2], [1]]), ShapeError, "not a rectangular"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), delay=[[1, 2], [3]]), ParameterError, "delay"),
    (lambda n: n.connect("in", "a", sparse=([0], [0], [[1], 2])), ShapeError, "sparse arrays"),
    (lambda n: n.connect(["in"], "a", np.ones((3, 4))), UnknownPopulationError, "must be a string"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), weight_bits="x"), ParameterError, "weight_bits = 'x'"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), weight_bits=True), ParameterError, "weight_bits = True"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), weight_exp=[1]), ParameterError, "weight_exp = \\[1\\]"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), weight_bits=float("nan")), ParameterError, "weight_bits"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), sign_mode=["mixed"]), ParameterError, "sign_mode"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), delay=True), ParameterError, "delays must be whole"),
    (lambda n: n.connect("in", "a", np.ones((3, 4), bool)), ParameterError, "weights must be numeric"),
    (lambda n: n.add_input("x", 3, encoder="rate"), ParameterError, "encoder must be an encoder object"),
    (lambda n: n.add_input("x", 10**12), ParameterError, "size must be a whole number in 1..2147483647"),
    (lambda n: n.add_input("x", spikes=[[0, 1], [1]]), ParameterError, "spikes must be an array"),
    (lambda n: n.add_population("b", 3, tau_u=2, decay_u_reg=5), ParameterError, "not both"),
    (lambda n: n.add_population("b", 3, tau_v=2, decay_v=5), ParameterError, "not both"),
    (lambda n: n.add_population("b", 3, tau_u=True), ParameterError, "true/false is not a number"),
    (lambda n: n.add_population("b", 3, vth=[True, False, True]), ParameterError, "vth must be numeric"),
    (lambda n: n.add_population("b", 3, taux=1), ParameterError, "unknown parameter.*taux"),
    (lambda n: n.add_population("b", 3, spec=None), ParameterError, "unknown parameter.*spec"),
    (lambda n: n.add_population("b", 10**12), ParameterError, "size must be a whole number"),
    (lambda n: n.add_population("b", 3, v_scale="x"), ParameterError, "v_scale = 'x' must be a number"),
    (lambda n: n.add_population("b", 3, bias="x"), ParameterError, "bias must be numeric"),
    (lambda n: n.add_population(["b"], 3), ParameterError, "name must be a non-empty string"),
    (lambda n: n.input_array(10**12), SizeError, r"input_array\(1000000000000\).*the limit is"),
    (lambda n: n.input_array("x"), EncoderError, "steps must be a whole number"),
    (lambda n: n.input_array(2.5), EncoderError, "steps must be a whole number"),
    (lambda n: n.input_array(3, spikes={"in": np.full((3, 3), 0.5)}), ParameterError, "0/1"),
    (lambda n: n.input_array(3, spikes=[1]), ParameterError, "spikes must map"),
    (lambda n: n.input_spikes(-1), EncoderError, "steps"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), learning_rule="dw = 2^-2*x1*y0",
                         traces={"x1": (float("nan"), 2)}), ParameterError, "trace x1 impulse = nan"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), learning_rule="dw = 2^-2*x1*y0",
                         traces={"x1": (1, float("inf"))}), ParameterError, "trace x1 tau = inf"),
    (lambda n: n.connect("in", "a", np.ones((3, 4)), learning_rule="dw = 2^-2*x1*y0", traces={"x1": (1, 2)},
                         w_max=float("nan")), ParameterError, "w_max"),
]


@pytest.mark.parametrize("call, error, fragment", NETWORK_CASES)
def test_network_api_errors_change_nothing(call, error, fragment):
    net = net3()
    before = repr(net)
    with pytest.raises(error, match=fragment):
        call(net)
    assert repr(net) == before


ENCODER_CASES = [
    (lambda: C.RateEncoder(0.5, size=10**12), "size = 1000000000000"),
    (lambda: C.RateEncoder(0.5, size=True), "size = True"),
    (lambda: C.RateEncoder(0.5, size=3, seed=None), "seed = None"),
    (lambda: C.RateEncoder(0.5, size=3, seed=1.5), "seed = 1.5"),
    (lambda: C.RateEncoder("x", size=3), "must be numbers"),
    (lambda: C.RateEncoder([True, False]), "booleans"),
    (lambda: C.LatencyEncoder([0.5], tau="x"), "tau .* must be a number"),
    (lambda: C.LatencyEncoder([0.5], theta=None), "theta"),
    (lambda: C.LatencyEncoder([0.5], offset=0.5), "offset"),
    (lambda: C.DeltaEncoder([[1.0]], threshold=None), "threshold"),
    (lambda: C.DeltaEncoder([[1.0], [2.0, 3.0]]), "not a rectangular"),
]


@pytest.mark.parametrize("call, fragment", ENCODER_CASES)
def test_encoder_settings_are_checked_when_made(call, fragment):
    with pytest.raises(EncoderError, match=fragment):
        call()


def test_rate_encoder_run_length_is_bounded():
    enc = C.RateEncoder(0.5, size=1000)
    with pytest.raises(SizeError, match="the limit is"):
        enc.encode(10**12, 0)


def test_compile_argument_kinds():
    net = net3()
    net.connect("in", "a", np.ones((3, 4)))
    with pytest.raises(NetworkError, match="spec must be a HardwareSpec"):
        C.compile(net, spec="loihi1")
    with pytest.raises(NetworkError, match="n_chips must be a positive integer, got 'x'"):
        C.compile(net, n_chips="x")
    with pytest.raises(NetworkError, match="n_chips"):
        C.compile(net, n_chips=True)
    with pytest.raises(PlacementError, match="got NoneType"):
        C.compile(net, placement=lambda problem: None)
    with pytest.raises(PlacementError, match="whole piece indices"):
        C.compile(net, placement=lambda problem: [0.5])
    with pytest.raises(NetworkError, match="placement must be a strategy name"):
        C.compile(net, placement=["sequential"])
    with pytest.raises(NetworkError, match="cannot compile a int"):
        C.compile(5)


def test_too_many_compartments_for_the_chips_fail_before_the_work():
    net = C.Network()
    net.add_population("big", 5_000_000)
    with pytest.raises(CapacityError, match="1 chip.*needs 4883 cores; the limit is 128") as err:
        C.compile(net, n_chips=1)
    assert err.value.resource == "cores"


def test_graph_api_node_attributes_and_spike_times():
    import networkx as nx

    g = nx.DiGraph()
    g.add_node("i", kind="input", spike_times=5)
    g.add_node("n", vth=1.0)
    g.add_edge("i", "n", weight=1.0)
    with pytest.raises(ParameterError, match="spike_times must be a list"):
        C.compile(g)
    g.nodes["i"]["spike_times"] = [True]
    with pytest.raises(ParameterError, match="spike_times"):
        C.compile(g)
    g.nodes["i"]["spike_times"] = [1]
    g.nodes["n"]["vth"] = "x"
    with pytest.raises(ParameterError, match="vth = 'x' must be a number"):
        C.compile(g)
    g.nodes["n"]["vth"] = 1.0
    g.edges["i", "n"]["weight"] = True
    with pytest.raises(ParameterError, match="weight True is not a finite number"):
        C.compile(g)


EMULATOR_CASES = [
    (lambda im: Emulator("image"), UsageError, "needs a board image"),
    (lambda im: Emulator(im, seed=None), UsageError, "seed must be a whole number"),
    (lambda im: Emulator(im, seed=1.5), UsageError, "seed"),
    (lambda im: Emulator(im, n_threads=10**9), UsageError, r"n_threads = 1000000000 is outside 1..1024"),
    (lambda im: Emulator(im, n_threads=0), UsageError, "n_threads"),
    (lambda im: Emulator(im, strict="yes"), UsageError, "strict"),
    (lambda im: Emulator(im, probes=5), UsageError, "probes must be a list"),
    (lambda im: Emulator(im, probes=[Probe("v", compartments=[0.5])]), ProbeError, "whole numbers"),
    (lambda im: Emulator(im, probes=[Probe("v", compartments=[[0, 1], [2]])]), ProbeError, "whole numbers"),
    (lambda im: Emulator(im, probes=[Probe("v", every=True)]), ProbeError, "every"),
    (lambda im: Emulator(im, probes=[Probe("v", name=["x"])]), ProbeError, "strings"),
    (lambda im: Emulator(im).run(10**12), SizeError, r"run of 1000000000000 steps.*the limit is"),
    (lambda im: Emulator(im).run("x"), InputError, "steps must be a whole number"),
    (lambda im: Emulator(im).run(2.5), InputError, "steps"),
    (lambda im: Emulator(im).run(True), InputError, "steps"),
    (lambda im: Emulator(im).run(-1), InputError, "steps"),
    (lambda im: Emulator(im).run(3, [[1, 2], [3]]), InputError, "not an array"),
    (lambda im: Emulator(im).run(3, "abc"), InputError, "numbers"),
    (lambda im: Emulator(im).run(3, progress="x"), UsageError, "progress"),
    (lambda im: Emulator(im).step([float("nan")]), InputError, "whole axon numbers"),
    (lambda im: Emulator(im).step([0.5]), InputError, "whole axon numbers"),
    (lambda im: Emulator(im).step(5), InputError, "list of input axon numbers"),
    (lambda im: Emulator(im).step([7]), InputError, "outside 0..2"),
]


@pytest.mark.parametrize("call, error, fragment", EMULATOR_CASES)
def test_emulator_arguments(image, call, error, fragment):
    with pytest.raises(error, match=fragment):
        call(image)


def test_emulator_accepts_numpy_integers_and_a_single_probe_name(image):
    emu = Emulator(image, seed=np.int64(3), probes="v", n_threads=np.int32(1))
    emu.run(np.int64(4))
    assert emu.data["v"].shape == (4, 4)
