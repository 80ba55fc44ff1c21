"""compiler.Simulator, probes by population name, converted units, result files, the CLI path, plots."""

from __future__ import annotations

import json

import numpy as np
import pytest

import compiler as C
from compiler.network.netfile import save_network
from loihi_cli.main import main
from loihi_emu import Emulator, Probe, load
from loihi_emu.errors import ProbeError
from loihi_emu.results import load_results


def exact_network(seed: int = 0) -> C.Network:
    """Quantization is exact here: v_scale 64 and integer model weights give wmant = w, exponent 0;
    tau_u = 1 (u = this step's input) and tau_v = inf (no decay) keep the registers free of truncation."""
    rng = np.random.default_rng(seed)
    net = C.Network("exact")
    net.add_input("in", spikes=rng.random((60, 3)) < 0.4)
    net.add_population("exc", 4, tau_u=1, tau_v=np.inf, vth=6.0, v_scale=64.0, refractory=2)
    net.add_population("inh", 2, tau_u=1, tau_v=np.inf, vth=4.0, v_scale=64.0)
    net.connect("in", "exc", np.array([[1, 2, 3, 4], [2, 1, 0, 3], [4, 0, 1, 2]], float))
    net.connect("exc", "inh", sparse=(np.array([0, 1, 2, 3]), np.array([0, 1, 0, 1]), np.array([3.0, 2, 1, 2])),
                learning_rule="2^-2*x1*y0", traces={"x1": (0, 8)})  # impulse 0: x1 stays 0, so w stays put
    return net


def test_converted_units_match_the_float_reference_exactly():
    net = exact_network()
    probes = [("exc", "spikes"), ("inh", "spikes"), ("exc", "v"), ("exc[1:3]", "u"), ("inh", "v", 5), ("exc->inh", "w")]
    sim = C.Simulator(net, probes=probes)
    sim.run(60)
    ref = sim.reference()
    assert sim.spikes("exc").shape[0] > 10
    for key in (("exc", "v"), ("exc[1:3]", "u"), ("inh", "v")):
        assert sim.data[key].dtype == np.float64
        np.testing.assert_array_equal(sim.data[key], ref.data[key])
        np.testing.assert_array_equal(sim.raw[key], sim.data[key] * 64)  # registers: v_scale 64
    assert sim.data["inh", "v"].shape == (12, 2)  # every 5th step
    assert np.abs(sim.data["exc[1:3]", "u"]).max() > 0 and np.abs(sim.data["inh", "v"]).max() > 0
    np.testing.assert_array_equal(sim.spikes("exc"), ref.spikes("exc"))
    np.testing.assert_array_equal(sim.spikes("inh"), ref.spikes("inh"))
    # w: the emulator's effective weight (x 64) over the target's scale is the model weight
    w0 = sim.data["exc->inh", "w"][0]
    np.testing.assert_array_equal(np.sort(w0), [1.0, 2.0, 2.0, 3.0])
    np.testing.assert_array_equal(w0, ref.data["exc->inh", "w"][0])
    np.testing.assert_array_equal(sim.raw["exc->inh", "w"][0], w0 * 64)  # floor(wmant 2^0) * 2^6 v units, scale 64


def test_repeated_runs_continue_exactly_and_slices_select():
    net = exact_network(1)
    a = C.Simulator(net, probes=[("exc", "v"), ("exc", "spikes")])
    a.run(25)
    a.run(35)
    b = C.Simulator(net, probes=[("exc", "v"), ("exc", "spikes")])
    b.run(60)
    np.testing.assert_array_equal(a.data["exc", "v"], b.data["exc", "v"])
    np.testing.assert_array_equal(a.spikes("exc"), b.spikes("exc"))
    np.testing.assert_array_equal(a.data["exc[2:4]", "v"], b.data["exc", "v"][:, 2:4])
    with pytest.raises(KeyError, match="no 'u' probe"):
        a.data["exc", "u"]
    with pytest.raises(ProbeError, match="unknown population 'ex'"):
        C.Simulator(net, probes=[("ex", "v")])


def test_emulator_probe_takes_population_selectors():
    net = exact_network()
    image, _ = C.compile(net)
    emu = Emulator(image, probes=[Probe("v", "inh", name="v_inh"), Probe("v", "exc[1:3]", name="v2"), "v"])
    emu.run(30)
    assert np.abs(emu.data["v"]).max() > 0
    np.testing.assert_array_equal(emu.data["v_inh"], emu.data["v"][:, 4:6])
    np.testing.assert_array_equal(emu.data["v2"], emu.data["v"][:, 1:3])
    with pytest.raises(ProbeError, match="input population"):
        Emulator(image, probes=[Probe("v", "in")])
    with pytest.raises(ProbeError, match="outside 0..3"):
        Emulator(image, probes=[Probe("v", "exc[7]")])


def test_cli_compile_then_run_gives_the_simulators_spikes(tmp_path, capsys):
    net = C.Network("cli")
    rng = np.random.default_rng(3)
    net.add_input("in", encoder=C.RateEncoder(rng.uniform(0.05, 0.3, 10), seed=4))
    net.add_population("exc", 12, tau_u=4, tau_v=12, vth=1.0, refractory=2)
    net.add_population("inh", 4, tau_u=2, tau_v=6, vth=0.7, tau_convention="exp")
    net.connect("in", "exc", rng.uniform(0, 0.5, (10, 12)))
    net.connect("exc", "inh", rng.uniform(0, 0.3, (12, 4)))
    net.connect("inh", "exc", -rng.uniform(0, 0.4, (4, 12)))
    save_network(net, tmp_path / "net.json")
    board, out = tmp_path / "board.npz", tmp_path / "out.npz"
    assert main(["compile", str(tmp_path / "net.json"), "-o", str(board)]) == 0
    assert main(["run", str(board), "--steps", "80", "--probe", "exc:spikes,v", "--probe", "inh:spikes",
                 "--every", "4", "--seed", "7", "-o", str(out), "--quiet"]) == 0
    capsys.readouterr()
    sim = C.Simulator(tmp_path / "net.json", probes=[("exc", "spikes"), ("exc", "v", 4), ("inh", "spikes")], seed=7)
    sim.run(80)
    res = load_results(out)
    assert sim.spikes("exc").shape[0] > 20
    np.testing.assert_array_equal(res.spikes("exc"), sim.spikes("exc"))
    np.testing.assert_array_equal(res.spikes("inh"), sim.spikes("inh"))
    np.testing.assert_array_equal(res.data["exc", "v"], sim.data["exc", "v"])
    assert res.steps == 80 and res.seed == 7 and res.image_hash == sim.image_hash
    with np.load(out, allow_pickle=False) as f:
        head = json.loads(str(f["header"]))
    assert {p["name"]: (p["start"], p["size"]) for p in head["populations"]["populations"]} == {
        "exc": (0, 12), "inh": (12, 4), "in": (0, 10)}
    probe = next(p for p in head["probes"] if p["key"] == "exc:v")
    assert probe["units"] == "model units" and probe["every"] == 4
    assert head["populations"]["populations"][0]["scales"]["v"] == sim.report.scales["exc"]
    assert main(["info", str(board)]) == 0
    assert "exc" in capsys.readouterr().out


def test_steps_default_to_a_finite_program_and_no_input_warns(tmp_path, capsys):
    net = exact_network()
    image, _ = C.compile(net)
    from loihi_emu import save

    save(image, tmp_path / "b.npz")
    out = tmp_path / "o.npz"
    assert main(["run", str(tmp_path / "b.npz"), "-o", str(out), "--quiet"]) == 0
    assert "ran 60 steps" in capsys.readouterr().out
    before = out.read_bytes()
    assert main(["run", str(tmp_path / "b.npz"), "--probe", "exc:bogus", "-o", str(out)]) == 1
    assert out.read_bytes() == before  # a failing run leaves the old file alone
    assert "unknown quantity 'bogus'" in capsys.readouterr().err
    silent = C.Network("silent")
    silent.add_input("in", 2)
    silent.add_population("p", 2)
    silent.connect("in", "p", np.ones((2, 2)))
    save(C.compile(silent)[0], tmp_path / "s.npz")
    assert main(["run", str(tmp_path / "s.npz"), "--steps", "3", "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: the image has 2 input axons")


def test_decay_conventions_reach_the_registers_and_the_reference():
    from compiler.passes.quantize import quantize_network
    from compiler.precision.reference import keep_factors

    net = C.Network("decays")
    net.add_population("e", 2, tau_u=4.0, tau_v=np.array([10.0, np.inf]), tau_convention="exp")
    net.add_population("f", 1, decay_u=0.25, decay_v=0.125)
    net.add_population("g", 1, tau_u=4.0, tau_v=8.0)
    q = quantize_network(net)
    e, f, g = q.populations
    du = -np.expm1(-1 / 4.0)
    assert e.decay_u_reg[0] == np.rint(4096 * du) - 1 and list(e.decay_v) == [np.rint(4096 * -np.expm1(-0.1)), 0]
    assert f.decay_u_reg[0] == 1023 and f.decay_v[0] == 512
    assert g.decay_u_reg[0] == 1023 and g.decay_v[0] == 512
    ku, kv = keep_factors(net)
    np.testing.assert_array_equal(ku, [1 - du, 1 - du, 0.75, 0.75])
    np.testing.assert_array_equal(kv, [1 + np.expm1(-0.1), 1.0, 0.875, 0.875])
    with pytest.raises(C.ParameterError, match="outside 0..1"):
        net.add_population("bad", 1, decay_v=410)


def test_plots_show_every_compartment(tmp_path):
    pytest.importorskip("matplotlib")
    from loihi_emu.plots import draw_raster, pyplot

    sim = C.Simulator(exact_network(), probes=[("exc", "spikes"), ("inh", "spikes"), ("exc", "v"),
                                                ("exc->inh", "w")])
    sim.run(60)
    fig = sim.plot(tmp_path / "sim.png", v="exc[0:2]", weights=True)
    assert (tmp_path / "sim.png").stat().st_size > 5000
    assert all(ax.get_title() and ax.get_xlabel() == "step" for ax in fig.axes if ax.get_label() != "<colorbar>")
    sim.save(tmp_path / "r.npz")
    assert main(["plot", str(tmp_path / "r.npz"), "-o", str(tmp_path / "p.png"), "--v", "exc[0:4]", "--weights"]) == 0
    assert (tmp_path / "p.png").stat().st_size > 5000
    plt = pyplot()
    fig, ax = plt.subplots()
    ev = np.array([[0, 0], [5, 2999]])
    assert draw_raster(ax, ev, 3000, 10, [("a", 0, 1000), ("b", 1000, 2000)]) == "density"
    assert "3000 compartments" in ax.texts[0].get_text() and ax.get_ylim()[1] == 2999.5
    plt.close(fig)


def test_v1_image_has_no_names_but_runs(tmp_path):
    from pathlib import Path

    image = load(Path(__file__).parent / "data" / "image-v1.npz")
    with pytest.raises(ProbeError, match="needs a population map"):
        Emulator(image, probes=[Probe("v", "exc")])


def test_three_commands_from_json_to_raster(tmp_path, capsys):
    """README's CLI path on examples/ei.json: compile, run (no --inputs), plot; spikes equal the Simulator's."""
    pytest.importorskip("matplotlib")
    from pathlib import Path

    net_file = Path(__file__).parent.parent / "examples" / "ei.json"
    board, out, fig = tmp_path / "board.npz", tmp_path / "out.npz", tmp_path / "raster.png"
    assert main(["compile", str(net_file), "-o", str(board)]) == 0
    assert main(["run", str(board), "--steps", "300", "--probe", "exc:spikes,v", "--probe", "inh:spikes",
                 "-o", str(out), "--quiet"]) == 0
    assert main(["plot", str(out), "-o", str(fig), "--v", "exc[0:4]"]) == 0
    assert fig.stat().st_size > 10_000
    assert "warning:" not in capsys.readouterr().err
    sim = C.Simulator(net_file, probes=[("exc", "spikes"), ("inh", "spikes")])
    sim.run(300)
    res = load_results(out)
    assert len(sim.spikes("exc")) > 100
    for pop in ("exc", "inh"):
        np.testing.assert_array_equal(res.spikes(pop), sim.spikes(pop))


def test_dense_packed_population_reads_back_in_model_units():
    # dense packing gives every compartment its own scale; the image's population map carries them
    rng = np.random.default_rng(0)
    net = C.Network("het")
    net.add_input("in", encoder=C.RateEncoder(0.1, size=50, seed=1))
    net.add_population("a", 60, tau_u=4, tau_v=15, vth=rng.uniform(0.5, 5, 60))
    net.connect("in", "a", rng.uniform(0, 1, (50, 60)) * (rng.random((50, 60)) < 0.3))
    sim = C.Simulator(net, probes=[("a", "v"), ("a", "spikes")])
    assert sim.report.packing == "dense"
    cs = sim.image.populations.compartment_scale
    assert cs is not None and np.unique(cs).size > 1
    sim.run(3)
    ref = sim.reference()
    vf, vr = sim.data["a", "v"][1], ref.data["a", "v"][1]  # step 1: the first step with input, before any spike
    live = (vr > 0) & (vf > 0)  # neither run spiked there
    assert live.sum() > 10
    np.testing.assert_allclose(vf[live], vr[live], rtol=0.01)
