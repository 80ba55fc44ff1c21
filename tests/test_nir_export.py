"""to_nir: a Network written as NIR and read back keeps every spike; quantized export; the NIR CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir")
pytest.importorskip("h5py")

from compiler import FloatSimulator, Network, NIRError, from_nir, quantize_network, to_nir  # noqa: E402
from loihi_cli.main import main  # noqa: E402

DATA = Path(__file__).parent / "data" / "nir"


def _net(rng) -> Network:
    net = Network("rt")
    net.add_input("x", 10)
    net.add_population("a", 8, tau_u=1, tau_v=rng.uniform(2, 20, 8), vth=rng.uniform(0.5, 1.5, 8),
                       bias=rng.uniform(0, 0.05, 8))
    net.add_population("b", 5, tau_u=rng.uniform(1.5, 6, 5), tau_v=rng.uniform(2, 20, 5), vth=1.0, refractory=2)
    net.add_population("c", 3, tau_u=1, tau_v=np.inf, vth=0.7)
    net.connect("x", "a", rng.normal(0.3, 0.3, (10, 8)))
    net.connect("a", "b", rng.normal(0.2, 0.4, (8, 5)), delay=rng.integers(0, 3, (8, 5)))
    net.connect("x", "b", rng.normal(0.2, 0.3, (10, 5)))
    net.connect("b", "b", rng.normal(0, 0.2, (5, 5)))
    net.connect("b", "c", rng.normal(0.3, 0.2, (5, 3)))
    return net


def test_round_trip_through_a_file_keeps_every_spike(tmp_path):
    rng = np.random.default_rng(1)
    net = _net(rng)
    steps = 300
    x = rng.random((steps, 10)) < 0.2
    s0 = FloatSimulator(net)
    s0.run(steps, net.input_array(steps, {"x": x}))
    path = tmp_path / "rt.nir"
    g = to_nir(net, path=path)
    assert {type(n).__name__ for n in g.nodes.values()} >= {"Input", "LIF", "CubaLIF", "IF", "Delay", "Linear"}
    imp = from_nir(path)  # dt comes from the graph's metadata
    assert imp.report.dt == 1e-3 and imp.network.name == "rt"
    u = imp.inputs(x)
    s1 = FloatSimulator(imp.network)
    s1.run(u.shape[0], u)
    ref = s0.data["spikes"]
    total = 0
    for pop in ("a", "b", "c"):
        first, size = net.compartment_ranges()[pop]
        got = imp.outputs(s1, node=pop)
        np.testing.assert_array_equal(got, ref[:, first : first + size], err_msg=pop)
        total += int(got.sum())
    assert total > 500
    assert imp.network.population("b").refractory.tolist() == [2] * 5


def test_quantized_export_holds_the_chip_values():
    rng = np.random.default_rng(2)
    net = _net(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = quantize_network(net)
    g = to_nir(net, quantized=True, dt=1e-4)
    reg = {p.name: p for p in q.populations}
    a = g.nodes["a"]
    keep = 1 - 1e-4 / a.tau
    np.testing.assert_allclose(keep, (4096 - reg["a"].decay_v) / 4096, rtol=1e-12)
    np.testing.assert_allclose(a.v_threshold, reg["a"].vth_mant * 64 / reg["a"].v_scale, rtol=1e-12)
    pw = next(p for p in q.projections if (p.pre, p.post) == ("x", "a"))
    w = g.nodes["x->a.w0"].weight  # [post, pre]
    proj = next(p for p in net.projections if (p.pre, p.post) == ("x", "a"))
    want = pw.wmant * 2.0 ** (pw.weight_exp + 6) / reg["a"].v_scale
    np.testing.assert_allclose(w[proj.post_index, proj.pre_index], want, rtol=1e-12)
    assert not np.allclose(w[proj.post_index, proj.pre_index], proj.weight)  # 9 bits are not float64
    imp = from_nir(g)
    assert imp.network.n_compartments == net.n_compartments


def test_export_errors_name_the_population():
    net = Network("bad")
    net.add_input("x", 2)
    net.add_population("p", 2, tau_u=1, tau_v=5, vmin=-1.0)
    with pytest.raises(NIRError, match="vmin/vmax") as e:
        to_nir(net)
    assert e.value.node == "p"
    net2 = Network("bad2")
    net2.add_population("q.r", 2)
    with pytest.raises(NIRError, match="cannot hold"):
        to_nir(net2)


def test_cli_import_nir_prints_the_report_and_writes_the_network(tmp_path, capsys):
    out = tmp_path / "net.json"
    rc = main(["import-nir", str(DATA / "snntorch_lif_zero.nir"), "--dt", "1e-4", "--convention", "snntorch",
               "-o", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "LIF" in text and "tau_v" in text and "chip quantization" in text
    doc = json.loads(out.read_text())
    assert doc["format"] == "loihi-net/1" and {p["name"] for p in doc["populations"]} == {"input", "1"}
    rc = main(["import-nir", str(DATA / "snntorch_lif_zero.nir"), "--json", "--dt", "1e-4"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["layers"]["1"]["lag"] == 1


def test_cli_errors_are_messages_and_keep_an_existing_output(tmp_path, capsys):
    out = tmp_path / "net.json"
    out.write_text("keep me")
    rc = main(["import-nir", str(DATA / "norse_lif__batched.nir"), "--dt", "1e-3", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "NIRError" in err and "batch" in err
    assert out.read_text() == "keep me"
    rc = main(["import-nir", str(DATA / "snntorch_lif_zero.nir"), "-o", str(out)])
    assert rc == 1 and "dt missing" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::compiler.errors.QuantizationWarning")
def test_cli_compile_and_precision_accept_nir(tmp_path, capsys):
    img = tmp_path / "img.npz"
    rc = main(["compile", str(DATA / "norse_cuba_ff.nir"), "--dt", "1e-3", "--convention", "norse", "-o", str(img)])
    assert rc == 0 and img.is_file() and "16 compartments" in capsys.readouterr().out
    rc = main(["precision", str(DATA / "norse_cuba_ff.nir"), "--dt", "1e-3", "--convention", "norse",
               "--inputs", str(DATA / "norse_cuba_ff.npz"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["steps"] == 202
    assert {p["name"]: p["float_spikes"] for p in doc["populations"]}["3"] == 114
    rc = main(["precision", str(DATA / "snntorch_lif_zero.nir"), "--dt", "1e-4", "--steps", "50"])
    assert rc == 0 and "precision of network" in capsys.readouterr().out


def test_imported_network_with_bias_axon_round_trips(tmp_path):
    imp = from_nir(DATA / "norse_cuba_ff.nir", dt=1e-3, convention="norse")
    ref = np.load(DATA / "norse_cuba_ff.npz")
    path = tmp_path / "again.nir"
    to_nir(imp.network, path=path)
    imp2 = from_nir(path)
    assert imp2.layers["bias"].type == "AlwaysOn" and imp2.input_nodes == ["input"]
    u = imp.inputs(ref["in_spikes"])
    s0 = FloatSimulator(imp.network)
    s0.run(len(u), u)
    u2 = imp2.inputs(u[:, : imp.network.input_axons()["input"][1]])
    s1 = FloatSimulator(imp2.network)
    s1.run(len(u2), u2)
    got = imp2.outputs(s1, node="3")
    first, size = imp.network.compartment_ranges()["3"]
    np.testing.assert_array_equal(got, s0.data["spikes"][:, first : first + size])
    assert got.sum() > 50


def test_importing_compiler_does_not_import_nir():
    import subprocess
    import sys

    code = "import sys, compiler; from compiler import from_nir, to_nir; print('nir' in sys.modules, 'h5py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
