"""Compiling: every image fits, splitting and packing, named capacity errors, exact lowering, placements."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compiler as C
from compiler.network.default_net import default_network
from loihi_cli.main import main as cli_main
from loihi_emu import LOIHI1, Emulator, build_image, load
from loihi_emu.image.limits import validate

FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_net(seed: int, n_pops: int, max_size: int, density: float) -> C.Network:
    rng = np.random.default_rng(seed)
    net = C.Network(f"random{seed}")
    net.add_input("in", encoder=C.RateEncoder(rng.uniform(0, 0.2, 20), seed=seed))
    names = []
    for i in range(n_pops):
        size = int(rng.integers(1, max_size + 1))
        net.add_population(f"p{i}", size, tau_u=rng.uniform(1, 10), tau_v=rng.uniform(2, 50),
                           vth=rng.uniform(0.5, 2, size), bias=rng.uniform(-0.1, 0.3), refractory=int(rng.integers(1, 5)))
        names.append(f"p{i}")
    for pre in ["in"] + names:
        for post in names:
            if rng.random() < 0.5:
                a, b = net.population(pre).size, net.population(post).size
                w = (rng.random((a, b)) < density) * rng.normal(0.3, 0.5, (a, b))
                if w.any():
                    net.connect(pre, post, weights=w, delay=int(rng.integers(0, 4)))
    return net


def compile_quiet(net, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.QuantizationWarning)
        return C.compile(net, **kw)


@FAST
@given(seed=st.integers(0, 10_000), n_pops=st.integers(1, 5), max_size=st.integers(1, 600),
       density=st.floats(0.01, 0.5), placement=st.sampled_from(["sequential", "bisection"]))
def test_every_image_passes_validate(seed, n_pops, max_size, density, placement):
    net = random_net(seed, n_pops, max_size, density)
    image, report = compile_quiet(net, placement=placement)
    usage = validate(image)
    assert report.cores == len(usage) and image.n_compartments == net.n_compartments
    assert image.n_synapses == net.n_synapses and image.n_inputs == net.n_inputs
    gidx = np.concatenate([c.compartments.global_index for c in image.cores])
    assert sorted(gidx.tolist()) == list(range(net.n_compartments))


def test_big_population_spreads_and_small_ones_share():
    net = C.Network()
    net.add_population("big", 5000)
    image, report = compile_quiet(net)
    assert report.cores >= 5 and len({(p.chip, p.core) for p in report.pieces if p.population == "big"}) >= 5
    net = C.Network()
    for i in range(4):
        net.add_population(f"s{i}", 100, vth=1.0 + i)
    image, report = compile_quiet(net)
    assert report.cores == 1 and len(image.cores[0].compartments.global_index) == 400


def test_input_axon_limit_splits_population():
    # every compartment of 'post' listens to 2000 distinct sources: two per core fit under 4096 input axons
    rng = np.random.default_rng(0)
    net = C.Network()
    net.add_input("in", 6000)
    net.add_population("post", 8)
    pre = np.concatenate([rng.choice(6000, 2000, replace=False) for _ in range(8)])
    post = np.repeat(np.arange(8), 2000)
    net.connect("in", "post", sparse=(pre, post, np.ones(pre.size)))
    image, report = compile_quiet(net)
    validate(image)
    assert report.cores >= 4
    assert max(u.input_axons for u in report.core_usage) <= LOIHI1.input_axons_per_core


def test_oversize_network_names_resource():
    net = C.Network()
    net.add_population("big", 200 * 1024)
    with pytest.raises(C.CapacityError, match=r"1 chip.*needs 200 cores.*over by 72") as info:
        compile_quiet(net, n_chips=1)
    assert info.value.resource == "cores" and info.value.needed == 200 and info.value.limit == 128
    net = C.Network()
    net.add_input("in", 5000)
    net.add_population("wide", 1)
    net.connect("in", "wide", weights=np.ones((5000, 1)))
    with pytest.raises(C.CapacityError, match="'wide' compartment 0") as info:
        compile_quiet(net)
    assert info.value.resource in ("input_axons", "synapse_memory_bits") and info.value.needed > info.value.limit


def test_too_many_formats_into_one_population():
    net = C.Network()
    net.add_population("p", 2)
    for i in range(17):
        net.add_input(f"i{i}", 1)
        net.connect(f"i{i}", "p", weights=np.full((1, 2), 0.5), weight_exp=i % 8, weight_bits=1 + i // 8)
    with pytest.raises(C.CapacityError, match="synapse formats"):
        compile_quiet(net)


def hand_net() -> C.Network:
    net = C.Network("hand")
    net.add_input("in", spikes=np.random.default_rng(1).random((60, 3)) < 0.3)
    net.add_population("a", 4, tau_u=4, tau_v=8, vth=1.0, bias=0.1, refractory=2)
    net.add_population("b", 2, tau_u=1, tau_v=np.inf, vth=2.0)
    net.connect("in", "a", weights=np.array([[0.5, 0.25, 0.0, 0.1], [0.0, 0.5, 0.5, 0.0], [0.3, 0.0, 0.2, 0.5]]))
    net.connect("a", "b", weights=np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.25, 0.25]]), delay=2)
    net.connect("b", "a", weights=-np.ones((2, 4)))
    return net


def test_compiled_matches_hand_built_registers():
    net = hand_net()
    image, report = C.compile(net, packing="exact")  # the hand-built registers use one scale per population
    sa = 255 * 64 / 1.0  # scale of 'a': the strongest projection into it (|-1.0|, inhibitory) fills 255
    sb = 255 * 64 / 1.0  # scale of 'b': weight 1.0
    regs = dict(
        decay_u_reg=[1023] * 4 + [4095] * 2,  # rint(4096 / tau_u) - 1
        decay_v=[512] * 4 + [0] * 2,  # rint(4096 / tau_v)
        vth_mant=[round(sa / 64)] * 4 + [round(2 * sb / 64)] * 2,
        bias_mant=[round(0.1 * sa)] * 4 + [0, 0], bias_exp=[0] * 6, refract=[2] * 4 + [1] * 2,
        vmin=[LOIHI1.v_min_limit] * 6, vmax=[LOIHI1.v_max_limit] * 6,
    )
    pre, post, wm, dl, sign = [], [], [], [], []
    # (projection, first source id, first target compartment, target scale, sign mode, delay);
    # sources: input axon i, or 3 + global compartment
    proj_specs = [(net.projections[0], 0, 0, sa, 2, 0), (net.projections[1], 3 + 0, 4, sb, 2, 2),
                  (net.projections[2], 3 + 4, 0, sa, 3, 0)]
    for proj, pre_base, post_base, s, sg, d in proj_specs:
        pre += (pre_base + proj.pre_index).tolist()
        post += (post_base + proj.post_index).tolist()
        wm += np.rint(proj.weight * s / 64).astype(int).tolist()
        dl += [d] * proj.n
        sign += [sg] * proj.n
    hand = build_image({k: np.array(v) for k, v in regs.items()}, np.zeros(6, int), n_in=3, syn_pre=np.array(pre),
                       syn_post=np.array(post), syn_wmant=np.array(wm), syn_delay=np.array(dl),
                       syn_sign_mode=np.array(sign))
    inputs = net.input_array(60)
    runs = []
    for img in (image, hand):
        emu = Emulator(img, probes=["spikes", "v"])
        emu.run(60, inputs)
        runs.append((emu.data["spikes"], emu.data["v"]))
    assert runs[0][0].any()
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


def test_placements_give_identical_spikes_and_bisection_cuts_traffic():
    # two clusters declared interleaved: c0 d0 c1 d1 ...; bisection should keep each cluster together
    rng = np.random.default_rng(5)
    net = C.Network()
    net.add_input("in", encoder=C.RateEncoder(0.1, size=40, seed=2))
    names = [f"{k}{i}" for i in range(4) for k in "cd"]
    for n in names:
        net.add_population(n, 300, tau_u=3, tau_v=10, vth=1.0)
    for a in names:
        net.connect("in", a, weights=(rng.random((40, 300)) < 0.1) * 0.6)
        for b in names:
            if a[0] == b[0] and a != b:
                net.connect(a, b, weights=(rng.random((300, 300)) < 0.05) * 0.04)
    out = {}
    for placement in ("sequential", "bisection", lambda problem: list(range(len(problem.pieces)))[::-1]):
        image, report = compile_quiet(net, placement=placement)
        emu = Emulator(image)
        emu.run(100, net.input_array(100))
        out[report.placement] = (emu.data["spikes"], report)
    spikes = [v[0] for v in out.values()]
    assert spikes[0].any()
    assert all(np.array_equal(spikes[0], s) for s in spikes[1:])
    seq, bis = out["sequential"][1].routes, out["bisection"][1].routes
    assert bis.synapses_inter_core < seq.synapses_inter_core


def test_unknown_or_bad_placement():
    net = hand_net()
    with pytest.raises(C.PlacementError, match="unknown placement"):
        C.compile(net, placement="random")
    with pytest.raises(C.PlacementError, match="permutation"):
        C.compile(net, placement=lambda problem: [0, 0])


def test_report_text_and_json():
    image, report = C.compile(hand_net())
    text = str(report)
    assert "per-core usage" in text and "quantization error" in text and "input axons 0..2" in text
    doc = json.loads(report.to_json())
    assert doc["cores"] == 1 and doc["core_usage"][0]["compartments"] == 6
    assert doc["input_axons"] == {"in": [0, 3]} and doc["compartments"] == {"a": [0, 4], "b": [4, 2]}
    assert {r["quantity"] for r in doc["quantization"]} >= {"decay_u", "decay_v", "vth", "bias", "weight"}
    assert set(doc["routes"]) >= {"intra_core", "inter_core", "inter_chip"}


def test_default_network_is_active_not_saturated():
    net = default_network(0)
    image, report = C.compile(net)
    assert report.cores >= 2 and 500 <= net.n_compartments <= 1000
    emu = Emulator(image)
    emu.run(300, net.input_array(300))
    rate = emu.data["spikes"].mean()
    assert 0.005 < rate < 0.2 and emu.data["spikes"].mean(0).max() < 0.5


def test_cli_compile_and_info(tmp_path, capsys):
    from compiler.network.netfile import save_network

    save_network(hand_net(), tmp_path / "net.json")
    board = tmp_path / "board.npz"
    assert cli_main(["compile", str(tmp_path / "net.json"), "-o", str(board), "--placement", "bisection"]) == 0
    assert "per-core usage" in capsys.readouterr().out
    assert load(board).n_compartments == 6
    assert cli_main(["compile", str(tmp_path / "net.json"), "-o", str(board), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_synapses"] == hand_net().n_synapses
    assert cli_main(["info", str(board)]) == 0
    assert "limit" in capsys.readouterr().out
    assert cli_main(["compile", str(tmp_path / "net.json"), "-o", str(board), "--chips", "0"]) == 2
