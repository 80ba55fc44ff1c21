"""Dense packing: profile selection, exact thresholds, binding-limit report and errors, placements, traffic."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

import compiler as C
from compiler.passes import partition
from compiler.passes.dense import DenseSettings, _Need, choose_profiles, decay_gains
from compiler.passes.placement import PLACEMENTS, PlacementProblem, piece_graph
from compiler.passes.quantize import quantize_network
from compiler.passes.traffic import traffic_estimate
from compiler.precision.compare import fixed_run, float_run, input_spikes
from loihi_emu import LOIHI1, Emulator
from loihi_emu.image import limits


def hetero_net(seed: int = 0, n: int = 200, pops: int = 2) -> C.Network:
    """Populations whose compartments all have their own threshold (10x range) and bias."""
    rng = np.random.default_rng(seed)
    net = C.Network(f"hetero{seed}")
    net.add_input("in", encoder=C.RateEncoder(0.1, size=30, seed=seed))
    for p in range(pops):
        vth = np.exp(rng.uniform(0, np.log(10), n))
        net.add_population(f"p{p}", n, tau_u=float(rng.uniform(1.5, 20)), tau_v=float(rng.uniform(2, 100)),
                           vth=vth, bias=vth * rng.uniform(0.01, 0.05, n), refractory=rng.integers(1, 3, n))
        w = (rng.random((30, n)) < 0.3) * np.exp(rng.uniform(np.log(1e-3), 0, (30, n))) * vth
        net.connect("in", f"p{p}", weights=w * np.where(rng.random((30, n)) < 0.8, 1, -1))
    return net


def quiet_compile(net, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", C.QuantizationWarning)
        return C.compile(net, **kw)


# ---------------------------------------------------------------- profile selection
def _need(a, c, weighted=None):
    a, c = np.asarray(a, float), np.asarray(c, float)
    w = np.ones(a.size, bool) if weighted is None else np.asarray(weighted)
    return _Need(a, c, w, np.zeros(a.size, np.int64))


def test_profiles_at_most_k_and_feasible_for_every_compartment():
    rng = np.random.default_rng(1)
    a = rng.uniform(8, 14, 500)
    c = a + rng.uniform(0, 3, 500)
    prof = choose_profiles(_need(a, c), 8, DenseSettings())
    assert 1 <= prof.size <= 8 and (prof >= 1).all() and np.all(np.diff(prof) > 0)
    # every compartment has at least one profile at or below its ceiling
    assert (np.log2(prof.min()) <= c + 1e-9).all()


def test_one_target_gives_one_profile_at_no_cost():
    # fill 2^10, ceiling 2^12.5: the best is two whole octaves up (strongest weights keep every bit)
    prof = choose_profiles(_need([10.0] * 20, [12.5] * 20), 8, DenseSettings())
    assert prof.tolist() == [2**12]


def test_octave_periodic_cost_lets_one_profile_serve_fills_an_octave_apart():
    # fills 2^9 and 2^10 with ceilings far above: one profile 2^k serves both at zero cost
    prof = choose_profiles(_need([9.0] * 5 + [10.0] * 5, [14.0] * 10), 1, DenseSettings())
    assert prof.size == 1 and np.log2(prof[0]) == pytest.approx(round(np.log2(prof[0])))


def test_dense_thresholds_are_exact_and_fit_the_profile_table():
    net = hetero_net(0)
    _, exact = quiet_compile(net, packing="exact")
    image, dense = quiet_compile(net, packing="dense")
    assert dense.packing == "dense" and dense.cores == 1 and exact.cores >= 400 // 8
    assert len(dense.dense.profiles) <= LOIHI1.max_threshold_profiles
    assert all(u.threshold_profiles <= LOIHI1.max_threshold_profiles for u in dense.core_usage)
    vth_rows = [r for r in dense.quantization.rows if r.quantity == "vth"]
    assert vth_rows and max(r.max_rel for r in vth_rows) < 1e-12
    # the per-compartment scale maps vth_mant back to the model threshold
    vth = np.concatenate([p.vth for p in net.populations])
    vth_mant = np.concatenate([c.compartments.vth_mant for c in image.cores])
    assert np.allclose(vth_mant * 64 / dense.scale_array(), vth, rtol=1e-12)
    w_rows = {r.item: r for r in dense.quantization.rows if r.quantity == "weight"}
    w_exact = {r.item: r for r in exact.quantization.rows if r.quantity == "weight"}
    assert all(w_rows[k].max_abs <= w_exact[k].max_abs * 1.05 for k in w_rows)


def test_auto_is_exact_when_thresholds_fit_one_table_and_dense_otherwise():
    net = C.Network("few")
    net.add_input("in", encoder=C.RateEncoder(0.1, size=4))
    net.add_population("a", 50, vth=np.repeat([1.0, 2.0], 25), tau_u=2, tau_v=10)
    net.connect("in", "a", weights=np.full((4, 50), 0.3))
    assert quiet_compile(net)[1].packing == "exact"
    assert quiet_compile(hetero_net(0, n=20, pops=1))[1].packing == "dense"


def test_unknown_packing_and_compensation_target_are_named():
    net = hetero_net(0, n=10, pops=1)
    with pytest.raises(C.NetworkError, match="packing 'tight'"):
        C.compile(net, packing="tight")
    with pytest.raises(C.UnknownPopulationError, match="'nope'"):
        C.compile(net, decay_compensation=["nope"])


def test_budget_and_ineligible_populations_stay_exact():
    net = hetero_net(0, n=30, pops=2)
    _, rep = quiet_compile(net, packing="dense", dense=DenseSettings(budget_bits=-100.0))
    assert set(rep.dense.exact) == {"p0", "p1"} and "budget" in rep.dense.exact["p0"]
    assert rep.cores == quiet_compile(net, packing="exact")[1].cores
    rng = np.random.default_rng(0)
    net = hetero_net(1, n=30, pops=1)
    net.add_population("fixed", 30, vth=rng.uniform(1, 2, 30), v_scale=1000.0)
    _, rep = quiet_compile(net, packing="dense")
    assert rep.dense.exact == {"fixed": "v_scale is fixed"} and "p0" in rep.dense.lost_mean


def test_decay_compensation_gains():
    net = C.Network("g")
    net.add_population("a", 2, tau_u=np.array([3.0, 1.0]), tau_v=np.array([7.0, np.inf]))
    q = quantize_network(net)
    gw, gb = decay_gains(net, q, {"a"}, LOIHI1)["a"]
    du = (np.rint(4096 / np.array([3.0, 1.0])) / 4096) * np.array([3.0, 1.0])
    dv = np.array([np.rint(4096 / 7) / 4096 * 7, 1.0])
    assert np.allclose(gb, dv) and np.allclose(gw, du * dv)


def test_dense_and_exact_agree_with_float_where_both_are_exact():
    # tau_u = 1 and tau_v = inf: no decay truncation. Integer weights with the largest 255 make the exact
    # scale 64 v units per model unit, so integer thresholds and biases in 64ths are exact there; odd 64ths
    # keep v off the threshold (no ties). Thresholds all differ (12 > 8 profiles), so dense changes every
    # compartment's scale and rounds its weights: the spikes must not change.
    net = C.Network("lossless")
    rng = np.random.default_rng(3)
    net.add_input("in", spikes=rng.random((150, 6)) < 0.3)
    vth = np.array([101, 137, 173, 212, 250, 289, 317, 350, 399, 433, 501, 570], float)
    w = np.rint(np.outer([0.5, 0.25, 0.125, 0.2, 0.3, 0.1], vth) * (255 / (0.5 * 570)))
    assert w.max() == 255
    bias = (2 * np.floor(vth / 9.1 * 32) + 1) / 64
    net.add_population("a", 12, tau_u=1, tau_v=np.inf, vth=vth, bias=bias, refractory=2)
    net.connect("in", "a", weights=w)
    x = input_spikes(net, 150, None)
    fl = float_run(net, 150, x).data["spikes"]
    runs = {p: fixed_run(net, 150, x, packing=p) for p in ("exact", "dense")}
    assert runs["dense"].report.packing == "dense" and runs["exact"].report.cores == 2
    assert runs["exact"].report.scales["a"] == 64.0 and runs["dense"].report.cores == 1
    assert fl.sum() > 50
    np.testing.assert_array_equal(runs["exact"].spikes, fl)
    np.testing.assert_array_equal(runs["dense"].spikes, runs["exact"].spikes)


# ---------------------------------------------------------------- one limit table, binding report, errors
def test_one_resource_table_for_partitioner_and_validate():
    assert partition.core_limits is limits.core_limits
    assert partition.RESOURCES == tuple(limits.core_limits(LOIHI1))
    small = dataclasses.replace(LOIHI1, max_threshold_profiles=3)
    assert limits.core_limits(small)["threshold_profiles"] == 3
    u = limits.CoreUsage(0, 0, *[1] * 9)
    assert u.limits(small) == limits.core_limits(small) and u.fullest(small) == "vminmax_profiles"


def test_report_names_the_binding_threshold_profiles():
    _, rep = quiet_compile(hetero_net(0, n=40, pops=1), packing="exact")
    assert rep.binding == ["threshold_profiles"] * (rep.cores - 1) + ["none"]
    assert rep.binding_summary == f"{rep.cores} cores; binding: threshold profiles on {rep.cores - 1}, not full on 1"
    text = rep.to_text()
    assert rep.binding_summary in text and "threshold profiles" in text.split("per-core usage:")[1]
    doc = rep.to_dict()
    assert doc["core_usage"][0]["binding"] == "threshold_profiles"
    assert doc["core_usage"][0]["utilisation"]["threshold_profiles"] == 1.0


def test_report_names_the_binding_input_axons():
    rng = np.random.default_rng(0)
    net = C.Network("fan-in")
    n_in, n, k = 20000, 1500, 8
    net.add_input("in", size=n_in)
    net.add_population("a", n, vth=1.0, tau_u=2, tau_v=10)
    net.connect("in", "a", sparse=(rng.integers(0, n_in, n * k), np.repeat(np.arange(n), k), np.full(n * k, 0.1)))
    _, rep = quiet_compile(net)
    assert rep.cores >= 2 and rep.binding[0] == "input_axons"
    assert "binding: input axons on" in rep.binding_summary


def test_capacity_error_says_what_binds():
    spec = dataclasses.replace(LOIHI1, cores_per_chip=2)
    with pytest.raises(C.CapacityError, match=r"binding: threshold profiles on \d+") as err:
        quiet_compile(hetero_net(0, n=40, pops=1), spec=spec, packing="exact", n_chips=1)
    assert err.value.resource == "cores"
    assert quiet_compile(hetero_net(0, n=40, pops=1), spec=spec, n_chips=1)[1].cores == 1  # dense fits


# ---------------------------------------------------------------- placement and traffic
def modular_net() -> C.Network:
    rng = np.random.default_rng(5)
    net = C.Network("modular")
    net.add_input("in", encoder=C.RateEncoder(0.2, size=8, seed=1))
    for k in range(6):
        net.add_population(f"E{k}", 24, vth=1.0, tau_u=2, tau_v=8, bias=0.05)
    for k in range(6):
        net.connect("in", f"E{k}", weights=(rng.random((8, 24)) < 0.3) * 0.4)
        net.connect(f"E{k}", f"E{k}", weights=(rng.random((24, 24)) < 0.5) * 0.05)
        net.connect(f"E{k}", f"E{(k + 3) % 6}", weights=(rng.random((24, 24)) < 0.01) * 0.05)
    return net


SMALL = dataclasses.replace(LOIHI1, name="small", compartments_per_core=16, cores_per_chip=3)


@pytest.mark.parametrize("packing", ["exact", "dense"])
def test_placement_never_changes_spikes(packing):
    net = hetero_net(2, n=20, pops=3)
    runs = []
    import importlib.util

    names = [n for n in sorted(PLACEMENTS) if n != "metis" or importlib.util.find_spec("pymetis")]
    assert {"sequential", "bisection"} <= set(names)
    for name in names:
        image, rep = quiet_compile(net, spec=SMALL, placement=name, packing=packing)
        assert rep.chips > 1
        emu = Emulator(image)
        emu.run(80, net.input_array(80))
        runs.append(emu.data["spikes"])
    assert runs[0].any()
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


def test_metis_cuts_fewer_interchip_synapses_than_bisection():
    pytest.importorskip("pymetis")
    net = modular_net()
    spec = dataclasses.replace(LOIHI1, name="small", compartments_per_core=24, cores_per_chip=2)
    reps = {p: quiet_compile(net, spec=spec, placement=p)[1] for p in ("sequential", "metis")}
    assert reps["metis"].routes.synapses_inter_chip < reps["sequential"].routes.synapses_inter_chip
    assert reps["metis"].placement == "metis"


def test_piece_graph_counts_synapses_between_pieces():
    net = modular_net()
    spec = dataclasses.replace(LOIHI1, compartments_per_core=24)
    q = quantize_network(net, spec)
    syn = partition.synapse_index(net, q, spec)
    pieces = partition.split_network(net, q, syn, spec)
    pairs, counts = piece_graph(PlacementProblem(pieces, net, spec))
    inter = sum(int(np.count_nonzero(p.weight)) for p in net.projections if p.pre != "in" and p.pre != p.post)
    assert counts.sum() == inter and (pairs[:, 0] < pairs[:, 1]).all()


def test_traffic_estimate_counts_interchip_routes_and_hops():
    net = modular_net()
    spec = dataclasses.replace(LOIHI1, compartments_per_core=24, cores_per_chip=1)
    image, rep = quiet_compile(net, spec=spec)
    t = traffic_estimate(net, image, spec, rate=0.5)
    crossing = sum(int((c.routes.dest_chip != c.chip).sum()) for c in image.cores)
    inputs = int((image.inputs.dest_chip != 0).sum())
    assert t.routes == crossing + inputs and t.mesh_width == 3
    assert t.messages == pytest.approx(0.5 * crossing + 0.2 * inputs)
    assert t.hop_messages >= t.messages and t.max_hops >= 1
    assert rep.traffic is not None and "interchip traffic" in rep.to_text()


def test_packing_doc_examples_run():
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent / "docs" / "packing.md"
    if not doc.is_file():
        pytest.skip("docs not present")
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 2
    ns: dict = {}
    for block in blocks:
        exec(compile(block, str(doc), "exec"), ns)  # noqa: S102 - our own documentation


def test_cli_sweep_packing(tmp_path, capsys):
    import json

    from compiler.network.netfile import save_network
    from loihi_cli.main import main

    path = tmp_path / "het.json"
    save_network(hetero_net(4, n=30, pops=1), path)
    assert main(["precision", str(path), "--steps", "40", "--sweep-packing"]) == 0
    out = capsys.readouterr().out
    assert "packing sweep of network 'hetero4'" in out and "threshold profiles on" in out
    assert main(["precision", str(path), "--steps", "40", "--sweep-packing", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["packing_sweep"]["rows"]
    assert [r["setting"] for r in rows] == ["exact", "dense", "dense+decay comp"]
    assert rows[1]["cores"] == 1 < rows[0]["cores"]
