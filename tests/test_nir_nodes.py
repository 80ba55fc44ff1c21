"""NIR node coverage: graphs built in code (no torch) against a framework-style reference (tests/nir_ref.py)."""

from __future__ import annotations

import numpy as np
import pytest

nir = pytest.importorskip("nir")

from nir_ref import run_graph  # noqa: E402

from compiler import FloatSimulator, NIRError, from_nir  # noqa: E402

DT = 1e-3


def graph(nodes: dict, edges: list):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def lif(n, rng, tau=(3e-3, 12e-3), thr=(0.4, 0.9), **kw):
    tau = rng.uniform(*tau, n)
    return nir.LIF(tau=tau, r=tau / DT, v_leak=np.zeros(n), v_threshold=rng.uniform(*thr, n), v_reset=np.zeros(n), **kw)


def cuba(n, rng, leak=0.0):
    ts, tm = rng.uniform(2e-3, 6e-3, n), rng.uniform(4e-3, 15e-3, n)
    return nir.CubaLIF(tau_syn=ts, tau_mem=tm, r=tm / DT, w_in=ts / DT, v_leak=np.full(n, leak),
                       v_threshold=rng.uniform(0.5, 1.0, n), v_reset=np.zeros(n))


def check(g, x, style="nir", convention="nir", order=None, layers=None, ref_graph=None):
    """Import, run the float reference, compare every spiking layer with the reference evaluator."""
    imp = from_nir(g, dt=DT, convention=convention)
    u = imp.inputs(x)
    sim = FloatSimulator(imp.network, probes=("spikes", "v"))
    sim.run(u.shape[0], u)
    ref = run_graph(ref_graph or g, x, DT, style, order)
    names = layers or [k for k, v in imp.layers.items() if v.type != "Input" and v.spiking]
    total = 0
    for k in names:
        got = imp.outputs(sim, node=k).reshape(x.shape[0], -1)
        want = ref[k].reshape(x.shape[0], -1)
        np.testing.assert_array_equal(got, want, err_msg=f"layer {k}")
        total += int(want.sum())
    assert total > 20, "the test network must spike"
    return imp, sim, ref


def test_conv_pool_flatten_linear_cuba_snntorch_style():
    rng = np.random.default_rng(3)
    w = rng.normal(0.25, 0.3, (3, 2, 3, 3))
    nodes = {
        "input": nir.Input(input_type=np.array([2, 6, 6])),
        "conv": nir.Conv2d(input_shape=(6, 6), weight=w, stride=1, padding=1, dilation=1, groups=1,
                           bias=rng.normal(0, 0.02, 3)),
        "lif1": lif(3 * 36, rng),
        "pool": nir.AvgPool2d(kernel_size=np.array(2), stride=np.array(2), padding=np.array([0, 0]),
                              metadata={"test_shape": (3, 6, 6)}),
        "flat": nir.Flatten(input_type={"input": np.array([3, 3, 3])}, start_dim=0, end_dim=-1),
        "fc": nir.Linear(weight=rng.normal(0.6, 0.5, (5, 27))),
        "syn": cuba(5, rng),
        "output": nir.Output(output_type=np.array([5])),
    }
    edges = [("flat", "fc"), ("input", "conv"), ("conv", "lif1"), ("lif1", "pool"), ("pool", "flat"),
             ("fc", "syn"), ("syn", "output")]
    x = rng.random((60, 2, 6, 6)) < 0.3
    imp, _, _ = check(graph(nodes, edges), x, style="snntorch", convention="snntorch")
    assert imp.layers["lif1"].shape == (3, 6, 6) and imp.layers["lif1"].lag == 1
    assert imp.layers["syn"].lag == 2 and imp.network.population("syn").refractory.tolist() == [2] * 5
    assert imp.outputs_of == {"output": "syn"}


def test_conv1d_stride_dilation_groups_into_if():
    rng = np.random.default_rng(4)
    w = rng.normal(0.3, 0.3, (4, 1, 3))
    nodes = {
        "input": nir.Input(input_type=np.array([2, 11])),
        "c": nir.Conv1d(input_shape=11, weight=w, stride=2, padding=1, dilation=2, groups=2, bias=np.zeros(4)),
        "if": nir.IF(r=np.full(4 * 5, 1.0), v_threshold=rng.uniform(0.8, 1.5, 20), v_reset=np.zeros(20)),
        "output": nir.Output(output_type=np.array([20])),
    }
    edges = [("input", "c"), ("c", "if"), ("if", "output")]
    x = rng.random((50, 2, 11)) < 0.4
    imp, _, _ = check(graph(nodes, edges), x, style="snntorch", convention="snntorch")
    assert imp.layers["if"].shape == (4, 5)


def test_sumpool_scale_delay_and_leaky_integrator_output():
    rng = np.random.default_rng(5)
    nodes = {
        "input": nir.Input(input_type=np.array([1, 4, 4])),
        "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]),
                              metadata={"test_shape": (1, 4, 4)}),
        "scale": nir.Scale(scale=rng.uniform(0.5, 1.0, 4)),
        "lif": lif(4, rng, thr=(0.2, 0.4)),
        "delay": nir.Delay(delay=np.full(4, 3 * DT)),
        "fc": nir.Affine(weight=rng.normal(0.5, 0.3, (3, 4)), bias=np.full(3, 0.05)),
        "li": nir.LI(tau=np.full(3, 5e-3), r=np.full(3, 5.0), v_leak=np.zeros(3)),
        "output": nir.Output(output_type=np.array([3])),
    }
    edges = [("input", "pool"), ("pool", "scale"), ("scale", "lif"), ("lif", "delay"), ("delay", "fc"),
             ("fc", "li"), ("li", "output")]
    x = rng.random((40, 1, 4, 4)) < 0.3
    g = graph(nodes, edges)
    imp, sim, ref = check(g, x, layers=["lif"])
    # the Delay of 3 steps absorbs the hop: the LI runs at the LIF's lag
    assert imp.layers["li"].lag == imp.layers["lif"].lag == 1
    v = imp.outputs(sim)
    np.testing.assert_allclose(v, ref["li"], rtol=1e-9, atol=1e-12)
    assert np.abs(v).max() > 0.01


def _rsynaptic(n, rng):
    return nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([n])),
        "lif": cuba(n, rng),
        "w_rec": nir.Affine(weight=rng.normal(0, 0.4, (n, n)), bias=rng.normal(0, 0.02, n)),
        "output": nir.Output(output_type=np.array([n])),
    }, edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")], type_check=False)


def test_recurrent_nested_graph_equals_its_dotted_flat_form_and_the_reference():
    rng = np.random.default_rng(6)
    sub = _rsynaptic(6, rng)
    fc1, fc2 = nir.Linear(weight=rng.normal(0.5, 0.4, (6, 5))), nir.Linear(weight=rng.normal(0.6, 0.4, (3, 6)))
    out_lif = lif(3, rng)
    nested = graph({"input": nir.Input(input_type=np.array([5])), "fc1": fc1, "1": sub, "fc2": fc2,
                    "lif": out_lif, "output": nir.Output(output_type=np.array([3]))},
                   [("input", "fc1"), ("fc1", "1"), ("1", "fc2"), ("fc2", "lif"), ("lif", "output")])
    flat = graph({"input": nir.Input(input_type=np.array([5])), "fc1": fc1, "1.lif": sub.nodes["lif"],
                  "1.w_rec": sub.nodes["w_rec"], "fc2": fc2, "lif": out_lif,
                  "output": nir.Output(output_type=np.array([3]))},
                 [("input", "fc1"), ("fc1", "1.lif"), ("1.lif", "1.w_rec"), ("1.w_rec", "1.lif"), ("1.lif", "fc2"),
                  ("fc2", "lif"), ("lif", "output")])
    x = rng.random((80, 5)) < 0.3
    imp, _, _ = check(flat, x)
    imp2, _, _ = check(nested, x, ref_graph=flat)
    assert set(imp2.layers) == {"input", "1.lif", "lif"}
    rec = next(p for p in imp2.network.projections if p.pre == p.post == "1.lif")
    assert (rec.delays() == 0).all()
    assert not any(n.startswith("inexact") for n in imp2.report.notes)


def test_cuba_leak_drive_and_scalar_parameters_broadcast_with_a_note():
    rng = np.random.default_rng(7)
    nodes = {
        "input": nir.Input(input_type=np.array([4])),
        "fc": nir.Linear(weight=rng.normal(0.4, 0.3, (6, 4))),
        "cuba": cuba(6, rng, leak=0.3),
        "fc2": nir.Linear(weight=rng.normal(0.5, 0.3, (3, 6))),
        "lif": nir.LIF(tau=np.array(4e-3), r=np.array(4.0), v_leak=np.array(0.0), v_threshold=np.array(0.5),
                       v_reset=np.array(0.0)),
        "output": nir.Output(output_type=np.array([3])),
    }
    edges = [("input", "fc"), ("fc", "cuba"), ("cuba", "fc2"), ("fc2", "lif"), ("lif", "output")]
    x = rng.random((80, 4)) < 0.25
    imp, _, _ = check(graph(nodes, edges), x)
    assert imp.layers["lif"].shape == (3,)
    assert any("broadcast to 3 neurons" in n for n in imp.report.notes)
    drive = next(p for p in imp.network.projections if p.pre == "bias" and p.post == "cuba")
    assert sorted(set(drive.delays().tolist())) == [0, 1]  # c, then -keep_u c one step later


def test_unsupported_node_lists_the_supported_ones():
    g = graph({"input": nir.Input(input_type=np.array([2])), "th": nir.Threshold(threshold=np.ones(2)),
               "output": nir.Output(output_type=np.array([2]))}, [("input", "th"), ("th", "output")])
    with pytest.raises(NIRError) as e:
        from_nir(g, dt=DT)
    assert e.value.node == "th" and "Threshold" in str(e.value) and "CubaLIF" in str(e.value)


def test_shapes_that_do_not_chain_name_the_node():
    rng = np.random.default_rng(8)
    g = graph({"input": nir.Input(input_type=np.array([5])), "fc": nir.Linear(weight=np.ones((3, 5))),
               "lif": lif(4, rng), "output": nir.Output(output_type=np.array([4]))},
              [("input", "fc"), ("fc", "lif"), ("lif", "output")])
    with pytest.raises(NIRError, match="shapes do not chain") as e:
        from_nir(g, dt=DT)
    assert e.value.node == "lif"
    g2 = graph({"input": nir.Input(input_type=np.array([4])), "fc": nir.Linear(weight=np.ones((3, 5)))},
               [("input", "fc")])
    with pytest.raises(NIRError, match="takes 5") as e:
        from_nir(g2, dt=DT)
    assert e.value.node == "fc"


def test_algebraic_loop_and_delay_off_the_step_grid_are_errors():
    g = graph({"input": nir.Input(input_type=np.array([2])), "a": nir.Linear(weight=np.eye(2)),
               "b": nir.Linear(weight=np.eye(2)), "lif": lif(2, np.random.default_rng(0))},
              [("input", "a"), ("a", "b"), ("b", "a"), ("b", "lif")])
    with pytest.raises(NIRError, match="algebraic loop"):
        from_nir(g, dt=DT)
    g2 = graph({"input": nir.Input(input_type=np.array([2])), "d": nir.Delay(delay=np.full(2, 1.5 * DT)),
                "lif": lif(2, np.random.default_rng(0))}, [("input", "d"), ("d", "lif")])
    with pytest.raises(NIRError, match="whole number of steps") as e:
        from_nir(g2, dt=DT)
    assert e.value.node == "d"


def test_loop_through_two_layers_is_reported_inexact():
    rng = np.random.default_rng(9)
    g = graph({"input": nir.Input(input_type=np.array([3])), "f": nir.Linear(weight=np.ones((3, 3))),
               "a": lif(3, rng), "ab": nir.Linear(weight=np.eye(3)), "b": lif(3, rng),
               "ba": nir.Linear(weight=-np.eye(3))},
              [("input", "f"), ("f", "a"), ("a", "ab"), ("ab", "b"), ("b", "ba"), ("ba", "a")])
    imp = from_nir(g, dt=DT)
    assert not imp.report.exact
    assert any("inexact" in n and "'b' -> 'a'" in n for n in imp.report.notes)


@pytest.mark.parametrize("kind", ["CubaLI", "I"])
def test_non_spiking_cuba_li_and_integrator_give_their_v(kind):
    rng = np.random.default_rng(10)
    n = 3
    if kind == "CubaLI":
        ts, tm = np.full(n, 3e-3), np.full(n, 6e-3)
        out = nir.CubaLI(tau_syn=ts, tau_mem=tm, r=tm / DT, v_leak=np.full(n, 0.1), w_in=ts / DT)
    else:
        out = nir.I(r=np.full(n, 1.0 / DT))
    g = graph({"input": nir.Input(input_type=np.array([4])), "fc": nir.Linear(weight=rng.normal(0.2, 0.2, (n, 4))),
               "o": out, "output": nir.Output(output_type=np.array([n]))},
              [("input", "fc"), ("fc", "o"), ("o", "output")])
    x = rng.random((40, 4)) < 0.3
    imp = from_nir(g, dt=DT)
    u = imp.inputs(x)
    sim = FloatSimulator(imp.network, probes=("spikes", "v"))
    sim.run(len(u), u)
    assert not sim.data["spikes"].any()
    v = imp.outputs(sim)
    np.testing.assert_allclose(v, run_graph(g, x, DT)["o"], rtol=1e-9, atol=1e-12)
    assert np.abs(v).max() > 0.05
