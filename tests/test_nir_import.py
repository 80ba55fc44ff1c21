"""NIR import: the three real exports in tests/data/nir against their producers' own outputs, and the errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir")
pytest.importorskip("h5py")

from compiler import FloatSimulator, NIRError, NIRWarning, compare, compile, from_nir  # noqa: E402
from loihi_emu import Emulator  # noqa: E402

DATA = Path(__file__).parent / "data" / "nir"
EXPORTS = [("snntorch_lif_zero", 1e-4, "snntorch"), ("norse_cuba_ff", 1e-3, "norse")]


def _float_run(imp, x, probes=("spikes",)):
    u = imp.inputs(x)
    sim = FloatSimulator(imp.network, probes=probes)
    sim.run(u.shape[0], u)
    return sim, u


@pytest.mark.parametrize("name,dt,conv", EXPORTS)
def test_real_export_float_reference_matches_producer_spike_for_spike(name, dt, conv):
    imp = from_nir(DATA / f"{name}.nir", dt=dt, convention=conv, reset="zero")
    assert imp.report.exact, imp.report.notes
    ref = np.load(DATA / f"{name}.npz")
    x = ref["in_spikes"]
    sim, u = _float_run(imp, x)
    assert u.shape[0] == x.shape[0] + imp.lag
    out = imp.outputs(sim)
    assert out.shape == ref["out_spikes"].shape
    assert out.sum() > 50
    np.testing.assert_array_equal(out, ref["out_spikes"])
    layers = [k for k in ref.files if k.startswith("spk_")]
    assert layers
    for k in layers:
        np.testing.assert_array_equal(imp.outputs(sim, node=k[4:]), ref[k], err_msg=k)
    meta = json.loads((DATA / f"{name}.json").read_text())
    np.testing.assert_array_equal(out.sum(axis=0), meta["out_spike_counts"])


@pytest.mark.parametrize("name,dt,conv", EXPORTS)
def test_real_export_compiles_runs_on_the_emulator_and_precision_report_runs(name, dt, conv):
    imp = from_nir(DATA / f"{name}.nir", dt=dt, convention=conv)
    ref = np.load(DATA / f"{name}.npz")
    u = imp.inputs(ref["in_spikes"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image, report = compile(imp.network)
        emu = Emulator(image, probes=["spikes"])
        emu.run(u.shape[0], u)
        out = imp.outputs(emu)
        prec = compare(imp.network, u.shape[0], inputs=u)
    assert report.cores >= 1
    assert out.shape == ref["out_spikes"].shape
    # 8-bit weights cost some spikes, but the layer stays close to the producer
    assert abs(int(out.sum()) - int(ref["out_spikes"].sum())) <= 0.1 * ref["out_spikes"].sum()
    last = list(imp.layers)[-1]
    assert prec.population(imp.layers[last].population).float_spikes == int(ref["out_spikes"].sum())


def test_lags_and_layers_of_the_norse_export():
    imp = from_nir(DATA / "norse_cuba_ff.nir", dt=1e-3, convention="norse")
    assert {k: v.lag for k, v in imp.layers.items()} == {"input": 0, "1": 1, "3": 2}
    assert imp.layers["3"].population in imp.network.compartment_ranges()
    assert imp.outputs_of == {"output": "3"}
    text = str(imp.report)
    assert "CubaLIF" in text and "tau_mem" in text and "lag" in text
    # the Affine bias in front of the CubaLIF enters the current through the always-on bias axon
    assert "bias" in imp.network.input_axons()
    bias_proj = next(p for p in imp.network.projections if p.pre == "bias")
    assert bias_proj.post == "1" and (bias_proj.delays() == 0).all()
    assert imp.network.population("1").bias.max() == 0.0


def test_batched_norse_export_is_a_typed_error_naming_the_node():
    with pytest.raises(NIRError) as e:
        from_nir(DATA / "norse_lif__batched.nir", dt=1e-3, convention="norse")
    assert e.value.node == "input"
    assert "batch" in str(e.value) and "norse_lif__batched.nir" in str(e.value)


def test_missing_file_dt_convention_and_reset_errors():
    with pytest.raises(NIRError, match="no such file"):
        from_nir(DATA / "nope.nir", dt=1e-4)
    with pytest.raises(NIRError, match="dt missing"):
        from_nir(DATA / "snntorch_lif_zero.nir")
    with pytest.raises(NIRError, match="dt = -1"):
        from_nir(DATA / "snntorch_lif_zero.nir", dt=-1)
    with pytest.raises(NIRError, match="unknown convention 'lava'"):
        from_nir(DATA / "snntorch_lif_zero.nir", dt=1e-4, convention="lava")
    with pytest.raises(NIRError, match="unknown reset"):
        from_nir(DATA / "snntorch_lif_zero.nir", dt=1e-4, reset="half")


def test_subtract_reset_is_refused_naming_node_reason_and_option():
    with pytest.raises(NIRError) as e:
        from_nir(DATA / "snntorch_lif_zero.nir", dt=1e-4, convention="snntorch", reset="subtract")
    assert e.value.node == "1"
    msg = str(e.value)
    assert "'1'" in msg and "subtract" in msg and "reset='zero'" in msg and "resets" not in msg[:5]


def test_wrong_convention_warns_that_euler_is_unstable():
    with pytest.warns(NIRWarning, match="unstable"):
        imp = from_nir(DATA / "norse_cuba_ff.nir", dt=1e-3, convention="nir")
    assert any("unstable" in n for n in imp.report.notes)


def test_inputs_must_be_spikes_of_the_input_shape():
    imp = from_nir(DATA / "snntorch_lif_zero.nir", dt=1e-4, convention="snntorch")
    with pytest.raises(NIRError, match="not a spike"):
        imp.inputs(np.full((5, 10), 0.5))
    with pytest.raises(NIRError, match="expected"):
        imp.inputs(np.zeros((5, 9)))
    u = imp.inputs(np.ones((5, 10)), steps=8)
    assert u.shape == (8, imp.network.n_inputs) and u[:5].all() and not u[5:].any()


def test_outputs_accepts_arrays_probe_data_and_simulator_like_objects():
    imp = from_nir(DATA / "snntorch_lif_zero.nir", dt=1e-4, convention="snntorch")
    ref = np.load(DATA / "snntorch_lif_zero.npz")
    sim, _ = _float_run(imp, ref["in_spikes"])
    spikes = sim.data["spikes"]
    a = imp.outputs(sim)
    np.testing.assert_array_equal(imp.outputs(sim.data), a)
    np.testing.assert_array_equal(imp.outputs(spikes), a)
    first, size = imp.network.compartment_ranges()["1"]

    class Sim:  # the shape of compiler.Simulator's API
        def spikes(self, pop):
            assert pop == "1"
            return spikes[:, first : first + size]

    np.testing.assert_array_equal(imp.outputs(Sim()), a)
    with pytest.raises(NIRError, match="no Output node or layer"):
        imp.outputs(sim, node="nope")


def test_file_failing_only_nir_type_check_on_one_value_parameters_is_read_and_broadcast(tmp_path):
    g = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([3])),
        "fc": nir.Linear(weight=np.full((4, 3), 0.6)),
        "lif": nir.LIF(tau=np.array([2e-3]), r=np.array([2.0]), v_leak=np.array([0.0]), v_threshold=np.array([0.5]),
                       v_reset=np.array([0.0])),
        "output": nir.Output(output_type=np.array([4])),
    }, edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")], type_check=False)
    path = tmp_path / "scalar.nir"
    nir.write(path, g)
    with pytest.raises(ValueError):
        nir.read(path)
    imp = from_nir(path, dt=1e-3)
    assert imp.layers["lif"].shape == (4,)
    assert any("type check failed" in n for n in imp.report.notes)
    assert any("broadcast to 4 neurons" in n for n in imp.report.notes)
    sim, _ = _float_run(imp, np.ones((6, 3)))
    # v = 0.5 v + 0.5 * 1.8 per step: 0.9 > 0.5 fires every step (reset to 0 each time)
    assert imp.outputs(sim).all()
