"""Plastic projections through the compiler: validation, formats, profiles per core, lowering, JSON, report."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest

import compiler as C
from compiler.network.netfile import load_network, save_network
from loihi_emu import LOIHI1, Emulator, build_image
from loihi_emu.image.limits import validate
from loihi_emu.image.profiles import LearningProfile

S = LOIHI1
STDP = "dw = 2^-2*x1*y0 - 2^-2*y1*x0"
TRACES = {"x1": (40, 6), "y1": (30, 8)}
PROBES = ["spikes", "v", "w", "wmant", "x1", "y1"]


def compile_quiet(net, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.QuantizationWarning)
        return C.compile(net, **kw)


def run(image, inputs, seed=3):
    emu = Emulator(image, probes=PROBES, seed=seed)
    emu.run(inputs.shape[0], inputs)
    return emu


def assert_same(a, b):
    for k in PROBES:
        np.testing.assert_array_equal(a.data[k], b.data[k], err_msg=k)


# ---------------------------------------------------------------- compile vs hand-built registers
W_IN = np.array([[0.5, -0.25, 0.0], [0.0, 0.4, 0.3], [0.2, 0.0, -0.1], [0.35, 0.15, 0.45]])


def plastic_net(epoch: int = 1, stochastic: bool = False, spec=S) -> C.Network:
    net = C.Network("plastic", spec=spec)
    net.add_input("in", spikes=np.random.default_rng(4).random((120, 4)) < 0.35)
    net.add_population("out", 3, tau_u=1, tau_v=np.inf, vth=1.0, refractory=2)
    pi, qi = np.nonzero(W_IN)
    net.connect("in", "out", sparse=(pi, qi, W_IN[pi, qi]), learning_rule=STDP, traces=TRACES,
                learning_epoch=epoch, stochastic_rounding=stochastic)
    return net


@pytest.mark.parametrize("epoch,stochastic", [(1, False), (3, True)])
def test_compiled_plastic_network_matches_hand_built_image(epoch, stochastic):
    net = plastic_net(epoch, stochastic)
    image, report = C.compile(net)
    # mixed plastic format: 9 bits (P = 1), largest mantissa 254 (a plastic mixed mantissa stays <= 254)
    s = 254 * 64 / 0.5
    assert report.formats["in->out"] == (9, 0, "mixed")
    regs = dict(decay_u_reg=[4095] * 3, decay_v=[0] * 3, vth_mant=[round(s / 64)] * 3, bias_mant=[0] * 3,
                bias_exp=[0] * 3, refract=[2] * 3, vmin=[S.v_min_limit] * 3, vmax=[S.v_max_limit] * 3)
    pi, qi = np.nonzero(W_IN)
    prof = LearningProfile.from_rule(STDP, traces=TRACES, epoch=epoch, rounding="stochastic" if stochastic else "det")
    hand = build_image({k: np.array(v) for k, v in regs.items()}, np.zeros(3, int), n_in=4, syn_pre=pi, syn_post=qi,
                       syn_wmant=np.rint(W_IN[pi, qi] * s / 64).astype(int), syn_sign_mode=1, syn_weight_bits=9,
                       syn_learning=0, learning_profiles=[prof])
    inputs = net.input_array(120)
    a, b = run(image, inputs), run(hand, inputs)
    assert a.data["spikes"].any()
    w = a.data["wmant"]
    assert (w[-1] != w[0]).any(), "the weights must learn for this comparison to mean anything"
    assert_same(a, b)
    for k in ("source", "target"):
        np.testing.assert_array_equal(a.plastic_synapses()[k], b.plastic_synapses()[k])


def row_sources(image, n_in: int) -> dict[tuple[int, int, int], list[int]]:
    """(chip, core, input axon) -> the global sources whose routes reach that row."""
    out: dict[tuple[int, int, int], list[int]] = {}
    tables = [(image.inputs, np.arange(n_in))] + [(c.routes, n_in + c.compartments.global_index) for c in image.cores]
    for rt, sources in tables:
        for j, src in enumerate(sources):
            for r in range(int(rt.ptr[j]), int(rt.ptr[j + 1])):
                key = (int(rt.dest_chip[r]), int(rt.dest_core[r]), int(rt.dest_axon[r]))
                out.setdefault(key, []).append(int(src))
    return out


def test_plasticity_survives_placement():
    """Small cores force the populations apart; every placement gives the same spikes, weights and traces."""
    small = dataclasses.replace(S, compartments_per_core=4)
    rng = np.random.default_rng(8)

    def build(spec):
        net = C.Network("placed", spec=spec)
        net.add_input("in", spikes=rng_in < 0.3)
        for name in ("a", "b", "c"):
            net.add_population(name, 5, tau_u=2, tau_v=6, vth=1.0, refractory=2)
        net.connect("in", "a", weights=w_ia, learning_rule=STDP, traces=TRACES)
        net.connect("in", "b", weights=w_ib, learning_rule=STDP, traces=TRACES)  # same source, other cores
        net.connect("a", "c", weights=w_ac, learning_rule="dw = 2^-3*x1*y0 - 2^-3*y1*x0", traces=TRACES,
                    sign_mode="mixed")
        net.connect("b", "c", weights=w_bc, learning_rule="dw = 2^-3*x1*y0 - 2^-3*y1*x0", traces=TRACES)
        net.connect("c", "a", weights=-w_ca)
        return net

    rng_in = rng.random((150, 6))
    w_ia, w_ib = rng.random((6, 5)) * 0.8, rng.random((6, 5)) * 0.8
    w_ac, w_bc, w_ca = rng.random((5, 5)) * 0.6, rng.random((5, 5)) * 0.6, rng.random((5, 5)) * 0.2
    runs = {}
    for name, spec, placement in (("one core", S, "sequential"), ("sequential", small, "sequential"),
                                  ("bisection", small, "bisection"),
                                  ("reversed", small, lambda p: list(range(len(p.pieces)))[::-1])):
        net = build(spec)
        image, report = compile_quiet(net, placement=placement)
        validate(image)
        runs[name] = (run(image, net.input_array(150)), image)
    assert len(runs["one core"][1].cores) == 1 and len(runs["sequential"][1].cores) >= 4
    base = runs["one core"][0]
    assert base.data["spikes"].any() and (base.data["wmant"][-1] != base.data["wmant"][0]).any()
    for emu, image in runs.values():
        assert_same(base, emu)
        # one input-axon row per (source, core): a plastic row never has two sources
        syn = emu.plastic_synapses()
        np.testing.assert_array_equal(syn["source"], base.plastic_synapses()["source"])
        rows = row_sources(image, 6)
        assert len(rows) == sum(c.synapses.n_axons for c in image.cores)
        assert all(len(srcs) == 1 for srcs in rows.values())
    # the input source reaches plastic rows on several cores, each with one source
    small_img = runs["sequential"][1]
    src_in = runs["sequential"][0].plastic_synapses()["source"] < 6
    assert len(set(runs["sequential"][0].plastic_synapses()["core"][src_in].tolist())) >= 2
    assert all(c.learning.n <= S.max_learning_profiles for c in small_img.cores)


# ---------------------------------------------------------------- profiles: sharing and limits
def test_identical_settings_share_one_profile():
    net = C.Network()
    for i in range(3):
        net.add_input(f"i{i}", 2)
    net.add_population("p", 4)
    w = np.full((2, 4), 0.5)
    net.connect("i0", "p", weights=w, learning_rule=STDP, traces=TRACES)
    # the same rule as a bare right-hand side, traces in another order: the same profile
    net.connect("i1", "p", weights=w, learning_rule="2^-2*x1*y0 - 2^-2*y1*x0", traces={"y1": (30, 8), "x1": (40, 6)})
    net.connect("i2", "p", weights=w, learning_rule=STDP, traces=TRACES, learning_epoch=2)
    image, report = C.compile(net)
    assert net.projections[1].learning_rule == STDP
    assert image.cores[0].learning.n == 2
    assert report.core_usage[0].learning_profiles == 2 and report.core_usage[0].trace_profiles == 1
    entries = report.learning[0].profiles
    assert sorted(len(e.projections) for e in entries) == [1, 2]
    assert {e.epoch for e in entries} == {1, 2}
    assert all(e.rule == STDP and e.traces == TRACES for e in entries)


def _many_profiles(n_proj: int, disjoint: bool, traces_vary: bool = False) -> C.Network:
    net = C.Network()
    net.add_population("p", 2 * n_proj if disjoint else 2)
    for i in range(n_proj):
        net.add_input(f"i{i}", 1)
        post = [2 * i, 2 * i + 1] if disjoint else [0, 1]
        tr = {"x1": (10 + i, 5), "y1": (30, 8)} if traces_vary else TRACES
        net.connect(f"i{i}", "p", sparse=([0, 0], post, [0.5, 0.5]), traces=tr,
                    learning_rule=f"dw = 2^-2*x1*y0 - 2^-2*(y1 + {i})*x0")
    return net


def test_more_profiles_than_a_core_holds_split_the_population():
    net = _many_profiles(12, disjoint=True)
    image, report = C.compile(net)
    usage = validate(image)
    assert len(image.cores) >= 2
    assert max(u.learning_profiles for u in usage) == S.max_learning_profiles
    assert sum(u.learning_profiles for u in usage) == 12
    net = _many_profiles(5, disjoint=True, traces_vary=True)  # 5 distinct trace settings, 3 per core
    image, _ = C.compile(net)
    usage = validate(image)
    assert len(image.cores) == 2 and max(u.trace_profiles for u in usage) == S.max_trace_profiles


def test_one_compartment_with_too_many_profiles_is_a_capacity_error():
    with pytest.raises(C.CapacityError, match="learning profiles") as info:
        C.compile(_many_profiles(9, disjoint=False))
    assert info.value.resource == "learning_profiles" and (info.value.needed, info.value.limit) == (9, 8)
    assert "population 'p' compartment 0" in str(info.value)
    with pytest.raises(C.CapacityError) as info:
        C.compile(_many_profiles(4, disjoint=False, traces_vary=True))
    assert info.value.resource == "trace_profiles" and info.value.limit == S.max_trace_profiles


# ---------------------------------------------------------------- quantization of plastic formats
def test_plastic_formats_and_sign_modes():
    net = C.Network()
    net.add_input("in", spikes=np.ones((40, 1), bool))
    for name in ("exc", "mix", "coarse"):
        net.add_population(name, 1, vth=1.0)
    depress = "dw = -8*x0"  # every arrival lowers the weight by 8 mantissa units
    net.connect("in", "exc", weights=[[0.1]], learning_rule=depress)  # all >= 0: excitatory, 8 bits
    net.connect("in", "mix", weights=[[0.1]], learning_rule=depress, sign_mode="mixed")  # may turn negative
    # 6-bit mixed: step P = 2^(8 - 5) = 8; dw = -12 -> 8 * trunc(-12 / 8) = -8 per arrival
    net.connect("in", "coarse", weights=[[0.1]], learning_rule="dw = -12*x0", sign_mode="mixed", weight_bits=6)
    image, report = C.compile(net)
    assert report.formats == {"in->exc": (8, 0, "excitatory"), "in->mix": (9, 0, "mixed"),
                              "in->coarse": (6, 0, "mixed")}
    emu = run(image, net.input_array(40))
    w = emu.data["wmant"]  # stable order: source 0 -> exc, mix, coarse
    np.testing.assert_array_equal(emu.plastic_synapses()["target"], [0, 1, 2])
    # largest mantissas: 255 (8-bit excitatory), 254 (plastic mixed), 8 * floor(254 / 8) = 248 (6-bit mixed)
    assert w[0].tolist() == [255, 254, 248] and w[1].tolist() == [247, 246, 240]
    assert w[:, 0].min() == 0  # excitatory: clipped at 0
    assert w[-1, 1] == 254 - 8 * 39 < 0  # mixed: goes negative
    assert (w[:, 2] % 8 == 0).all() and w[-1, 2] == 248 - 8 * 39


def test_dd_and_dt_rules_compile_within_memory():
    net = C.Network()
    net.add_input("in", 50)
    net.add_population("p", 200)
    w = np.random.default_rng(1).random((50, 200)) * 0.5
    net.connect("in", "p", weights=w, learning_rule="dw = 2^-2*x1*y0; dd = x0*y0; dt = y0*x1",
                traces={"x1": (20, 4)})
    image, _ = C.compile(net)
    validate(image)


# ---------------------------------------------------------------- validation
def _net2() -> C.Network:
    net = C.Network()
    net.add_input("in", 3)
    net.add_population("a", 2)
    net.add_population("b", 2)
    return net


W = np.full((3, 2), 0.5)
BAD = [
    (dict(learning_rule="dw = x0 +"), C.LearningRuleError, "missing operand"),
    (dict(learning_rule="dw = 2^-2*x1*y1", traces=TRACES), C.LearningRuleError, "x0, y0 or"),
    (dict(learning_rule="dx = x0"), C.LearningRuleError, "unknown"),
    (dict(learning_rule=3), C.LearningError, "rule text"),
    (dict(learning_rule=STDP, traces={"x3": (1, 2), **TRACES}), C.LearningError, "unknown trace 'x3'"),
    (dict(learning_rule=STDP, traces={"x1": (128, 6), "y1": (30, 8)}), C.LearningError, "impulse = 128"),
    (dict(learning_rule=STDP, traces={"x1": (-1, 6), "y1": (30, 8)}), C.LearningError, "impulse = -1"),
    (dict(learning_rule=STDP, traces={"x1": (40, 0), "y1": (30, 8)}), C.LearningError, "tau = 0"),
    (dict(learning_rule=STDP, traces={"x1": (40, 4096), "y1": (30, 8)}), C.LearningError, "tau = 4096"),
    (dict(learning_rule=STDP, traces={"x1": (40, 2.5), "y1": (30, 8)}), C.LearningError, "tau = 2.5"),
    (dict(learning_rule=STDP, traces={"x1": 40, "y1": (30, 8)}), C.LearningError, r"\(impulse, tau\)"),
    (dict(learning_rule=STDP, traces=[("x1", 4, 4)]), C.LearningError, "map a trace name"),
    (dict(learning_rule=STDP, traces={"x1": (40, 6)}), C.LearningError, "reads y1"),
    (dict(learning_rule=STDP, traces=TRACES, learning_epoch=0), C.LearningError, "learning_epoch = 0"),
    (dict(learning_rule=STDP, traces=TRACES, learning_epoch=64), C.LearningError, "learning_epoch = 64"),
    (dict(learning_rule=STDP, traces=TRACES, learning_epoch=True), C.LearningError, "learning_epoch = True"),
    (dict(learning_rule=STDP, traces=TRACES, stochastic_rounding="yes"), C.LearningError, "stochastic_rounding"),
    (dict(traces=TRACES), C.LearningError, "without a learning_rule"),
    (dict(learning_epoch=2), C.LearningError, "without a learning_rule"),
    (dict(stochastic_rounding=True), C.LearningError, "without a learning_rule"),
]


@pytest.mark.parametrize("kw,err,match", BAD)
def test_bad_learning_settings_are_typed_errors_naming_the_projection(kw, err, match):
    net = _net2()
    with pytest.raises(err, match=match) as info:
        net.connect("in", "a", weights=W, **kw)
    assert "projection 'in' -> 'a'" in str(info.value)
    assert isinstance(info.value, C.ParameterError)
    assert not net.graph.has_edge("in", "a")  # nothing changed


def test_rule_error_keeps_line_and_column():
    net = _net2()
    with pytest.raises(C.LearningRuleError) as info:
        net.connect("in", "a", weights=W, learning_rule="dw = x0*y0\ndd = x0 +")
    e = info.value
    assert (e.line, e.column) == (2, 10) and "line 2, column 10" in str(e)
    assert type(e.rule_error).__name__ == "RuleMissingOperandError" and e.__cause__ is e.rule_error
    with pytest.raises(C.LearningRuleError) as info:  # a bare right-hand side: positions in "dw = <text>"
        net.connect("in", "a", weights=W, learning_rule="x0 +")
    assert (info.value.line, info.value.column) == (1, 10)


def test_trace_settings_must_agree_per_source_and_per_compartment():
    net = _net2()
    net.connect("in", "a", weights=W, learning_rule=STDP, traces=TRACES)
    # the same sources with other x traces
    with pytest.raises(C.LearningError, match="x traces.*'in' -> 'a'.*source 0 of 'in'"):
        net.connect("in", "b", weights=W, learning_rule=STDP, traces={"x1": (41, 6), "y1": (30, 8)})
    # ... or other rounding
    with pytest.raises(C.LearningError, match="x traces"):
        net.connect("in", "b", weights=W, learning_rule=STDP, traces=TRACES, stochastic_rounding=True)
    assert not net.graph.has_edge("in", "b")
    # different sources: fine
    net.connect("in", "b", sparse=([0], [0], [0.5]), learning_rule=STDP, traces=TRACES)
    # the same targets with other y traces
    net.add_input("in2", 2)
    with pytest.raises(C.LearningError, match="y traces.*target compartment 1 of 'a'"):
        net.connect("in2", "a", sparse=([0], [1], [0.5]), learning_rule=STDP, traces={"x1": (40, 6), "y1": (3, 8)})
    net.connect("in2", "a", sparse=([0], [1], [0.5]), learning_rule=STDP, traces=TRACES, learning_epoch=4)
    # static projections do not count
    net.connect("a", "b", weights=np.ones((2, 2)))
    C.compile(net)


# ---------------------------------------------------------------- JSON and report
def test_learning_fields_round_trip_through_json(tmp_path):
    net = plastic_net(epoch=2, stochastic=True)
    net.add_population("c", 2)
    net.connect("out", "c", weights=np.full((3, 2), 0.3), learning_rule="x0*y0", traces={"y1": (5, 9)})
    save_network(net, tmp_path / "n.json")
    doc = json.loads((tmp_path / "n.json").read_text())
    p0 = doc["projections"][0]
    assert p0["learning_rule"] == STDP and p0["traces"] == {"x1": [40, 6], "y1": [30, 8]}
    assert p0["learning_epoch"] == 2 and p0["stochastic_rounding"] is True
    back = load_network(tmp_path / "n.json")
    for p, q in zip(net.projections, back.projections):
        assert (p.learning_rule, p.traces, p.learning_epoch, p.stochastic_rounding) == (
            q.learning_rule, q.traces, q.learning_epoch, q.stochastic_rounding)
        assert p.learning_profile == q.learning_profile
    assert C.compile(net)[0].equals(C.compile(back)[0])
    doc["projections"][0]["traces"] = {"x1": [40, 6]}
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(C.LearningError, match="reads y1"):
        load_network(tmp_path / "bad.json")


def test_report_lists_learning_profiles_per_core():
    image, report = C.compile(plastic_net(epoch=3))
    text = str(report)
    assert "learning profiles per core" in text and STDP in text and "x1 (40, 6), y1 (30, 8)" in text
    assert "epoch 3" in text and "in->out" in text
    doc = json.loads(report.to_json())
    assert doc["learning"] == [{"chip": 0, "core": 0, "profiles": [
        {"rule": STDP, "traces": {"x1": [40, 6], "y1": [30, 8]}, "epoch": 3, "rounding": "det",
         "projections": ["in->out"]}]}]
    assert doc["core_usage"][0]["learning_profiles"] == 1
    static_net = C.Network()
    static_net.add_input("i", 1)
    static_net.add_population("p", 1)
    static_net.connect("i", "p", weights=[[0.5]])
    _, rep = C.compile(static_net)
    assert rep.learning == [] and "learning profiles per core" not in str(rep)


# ---------------------------------------------------------------- w_max: room for learned weights
def _potentiating_net(w_max=None):
    net = C.Network("grow")
    rng = np.random.default_rng(9)
    net.add_input("in", spikes=rng.random((300, 8)) < 0.3)
    net.add_population("out", 2, tau_u=2, tau_v=4, vth=1.0, refractory=1)
    pi, qi = np.meshgrid(np.arange(8), np.arange(2), indexing="ij")
    # pure potentiation: every post spike raises w by x1/4
    net.connect("in", "out", sparse=(pi.ravel(), qi.ravel(), np.full(16, 0.2)), learning_rule="dw = 2^-2*x1*y0",
                traces={"x1": (60, 10)}, w_max=w_max)
    return net


def test_w_max_gives_learned_weights_room_to_grow():
    tight, _ = compile_quiet(_potentiating_net())
    roomy, _ = compile_quiet(_potentiating_net(w_max=0.8))
    # without w_max the initial weight takes the top excitatory mantissa; with w_max 4x larger, about a quarter
    (wm_tight,) = {int(m) for c in tight.cores for m in c.synapses.wmant}
    (wm_roomy,) = {int(m) for c in roomy.cores for m in c.synapses.wmant}
    assert wm_tight == 255 and 60 <= wm_roomy <= 66
    runs = [run(img, _potentiating_net().input_array(300)) for img in (tight, roomy)]
    assert (runs[0].data["wmant"] <= 255).all() and runs[0].data["wmant"].max() == 255  # clipped at once
    assert runs[1].data["wmant"].max() > 2 * wm_roomy  # grew well past its start


def test_w_max_validation_and_json(tmp_path):
    with pytest.raises(C.LearningError, match="w_max = -1.0 must be a positive finite weight"):
        _potentiating_net(w_max=-1.0)
    net = C.Network("static")
    net.add_input("in", spikes=np.zeros((5, 2), bool))
    net.add_population("out", 1, tau_u=2, tau_v=4, vth=1.0)
    with pytest.raises(C.LearningError, match="w_max is given without a learning_rule"):
        net.connect("in", "out", np.ones((2, 1)), w_max=2.0)
    assert net.projections == []  # nothing changed
    save_network(_potentiating_net(w_max=0.8), tmp_path / "n.json")
    back = load_network(tmp_path / "n.json")
    assert back.projections[0].w_max == 0.8
