"""compare() and sweep(): known answers (compiler/precision.py, compiler/precision_sweep.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from compiler import Network, PrecisionError, RateEncoder, compare, sweep
from compiler.precision.compare import weight_divergence
from compiler.precision.sweep import with_weight_bits


def exact_net() -> Network:
    """Parameters that quantize exactly: tau_u = 1, tau_v = inf, dyadic weights/vth/bias at v_scale 2^13."""
    rng = np.random.default_rng(0)
    net = Network("exact")
    net.add_input("in", encoder=RateEncoder(0.1, size=20, seed=3))
    net.add_population("a", 30, tau_u=1, vth=1.0, bias=0.125, refractory=3, v_scale=8192.0)
    net.add_population("b", 10, tau_u=1, vth=0.75, refractory=1, v_scale=8192.0, vmin=-0.5)
    net.connect("in", "a", weights=rng.integers(-8, 16, (20, 30)) / 16.0, delay=rng.integers(0, 4, (20, 30)))
    net.connect("a", "b", weights=rng.integers(0, 8, (30, 10)) / 16.0, delay=2)
    net.connect("b", "a", weights=-rng.integers(0, 8, (10, 30)) / 16.0)
    return net


def test_exactly_representable_network_gives_identical_spikes():
    rep = compare(exact_net(), 400)
    assert [p.name for p in rep.populations] == ["a", "b"]
    for p in rep.populations:
        assert p.float_spikes > 50
        assert p.count_error == 0 and p.identical == 1.0
        assert p.van_rossum_max == 0.0 and p.victor_purpura_max == 0.0 and p.v_rmse_max == 0.0
        assert p.latency_max_abs == 0 and p.latency_unmatched == 0
    assert rep.total_wraps == 0
    assert all(r.max_abs == 0 for r in rep.quantization.rows)


def chip_spikes(steps: int, bias_v: int, vth_v: int, decay_v: int, refract: int) -> list[int]:
    """SEMANTICS.md §1 for one compartment with u = 0, written out with Python integers."""
    v, counter, out = 0, 0, []
    for t in range(steps):
        v = ((v * (4096 - decay_v)) >> 12) + bias_v  # v >= 0 here, so truncation toward zero is a shift
        if counter > 0:
            v = 0
        if v > vth_v:
            out.append(t)
            v, counter = 0, refract
        if counter > 0:
            counter -= 1
    return out


def test_single_compartment_with_bias_matches_hand_computation():
    b, vth, tau, r, steps = 0.11, 1.0, 10.0, 2, 500
    net = Network("one")
    net.add_population("a", 1, tau_v=tau, vth=vth, bias=b, refractory=r)
    rep = compare(net, steps)
    # float: v after k free steps is b tau (1 - (1 - 1/tau)^k); the first k with v > vth, then r - 1 silent steps
    k = math.floor(math.log(1 - vth / (b * tau)) / math.log(1 - 1 / tau)) + 1
    float_times = list(range(k - 1, steps, k + r - 1))
    # fixed point by docs/quantization.md: no weights, so s = min((2^17-1) 2^6 / vth, 4095 2^7 / b) = 4095 2^7 / b;
    # bias = 4095 * 2^7 exactly; vth_mant = rint(s / 64); decay_v = rint(4096 / 10) = 410
    s = 4095 * 2**7 / b
    fixed_times = chip_spikes(steps, 4095 * 2**7, int(np.rint(s * vth / 64)) * 64, 410, r)
    p = rep.population("a")
    assert p.float_spikes == len(float_times)
    assert p.fixed_spikes == len(fixed_times)
    assert p.count_error == len(fixed_times) - len(float_times)
    assert p.rate_rel_error == pytest.approx(abs(len(fixed_times) - len(float_times)) / len(float_times))
    assert p.latency_mean == fixed_times[0] - float_times[0]
    assert p.identical == float(fixed_times == float_times)
    assert rep.scales["a"] == pytest.approx(s)


def test_wrap_around_shows_in_the_report():
    net = Network("wrap")
    net.add_input("in", 200)
    net.add_population("a", 2, vth=1.0)
    net.connect("in", "a", weights=np.ones((200, 2)))  # 200 * 255 * 64 v units > 2^21: q wraps
    rep = compare(net, 20, inputs=np.ones((20, 200), np.uint8))
    assert rep.wraps["q"] > 0 and rep.total_wraps == sum(rep.wraps.values())
    text = str(rep)
    assert "overflowed" in text and f"q {rep.wraps['q']}" in text
    assert any("wrapped" in n for n in rep.notes)
    assert json.loads(rep.to_json())["wraps"]["q"] == rep.wraps["q"]


def test_report_text_and_json_carry_the_figures():
    net = Network("leaky")
    net.add_input("in", encoder=RateEncoder(0.1, size=20, seed=3))
    net.add_population("a", 30, tau_u=3, tau_v=7.3, vth=1.0, bias=0.05)
    net.connect("in", "a", weights=np.random.default_rng(2).random((20, 30)) * 0.3)
    rep = compare(net, 300, vr_tau=5.0, vp_cost=0.25)
    doc = json.loads(rep.to_json())
    assert doc["van_rossum_tau_steps"] == 5.0 and doc["victor_purpura_cost_per_step"] == 0.25
    pa = doc["populations"][0]
    assert pa["name"] == "a" and pa["size"] == 30
    assert pa["fixed_spikes"] - pa["float_spikes"] == pa["count_error"]
    assert {r["quantity"] for r in doc["quantization"]} >= {"weight", "vth", "decay_u", "decay_v", "bias"}
    text = str(rep)
    assert "van Rossum tau 5 steps" in text and "Victor-Purpura cost 0.25" in text
    assert f"{pa['float_spikes']:>9} {pa['fixed_spikes']:>9}" in text
    with pytest.raises(PrecisionError, match="no population 'zz'"):
        rep.population("zz")


def test_inputs_shape_is_checked():
    with pytest.raises(PrecisionError, match="shape"):
        compare(exact_net(), 10, inputs=np.zeros((10, 3), np.uint8))


def test_sweep_recovers_exactness_with_enough_bits():
    sw = sweep(exact_net(), weight_bits=[1, 3, 8, 9], steps=200)
    assert [r.weight_bits for r in sw.rows] == [1, 3, 8, 9]
    full = sw.rows[2]
    assert full.identical == 1.0 and full.abs_count_error == 0 and full.weight_abs_error == 0.0
    assert sw.rows[0].error is not None and "v_scale" in sw.rows[0].error  # 1 mixed bit holds no magnitude
    assert sw.rows[1].identical < 1.0 and sw.rows[1].weight_abs_error > 0
    assert "does not compile" in str(sw)
    assert "bits" in str(sw) and len(json.loads(sw.to_json())["rows"]) == 4
    with pytest.raises(PrecisionError, match="weight bits"):
        sweep(exact_net(), weight_bits=[0], steps=5)


def test_with_weight_bits_caps_per_sign_mode():
    net = with_weight_bits(exact_net(), 9)
    assert [p.weight_bits for p in net.projections] == [9, 8, 8]  # mixed, excitatory, inhibitory
    assert [p.weight_bits for p in exact_net().projections] == [None, None, None]  # the original is unchanged


def test_weight_divergence_matches_by_source_and_target():
    fw, fs, ft = np.array([1.0, 2.0, 3.0]), np.array([0, 5, 5]), np.array([2, 1, 0])
    xw, xs, xt = np.array([3.5, 2.25, 0.5]), np.array([5, 5, 0]), np.array([0, 1, 2])
    assert weight_divergence(fw, fs, ft, xw, xs, xt).tolist() == [-0.5, 0.25, 0.5]
    with pytest.raises(PrecisionError, match="do not match"):
        weight_divergence(fw, fs, ft, xw, xs, np.array([0, 1, 3]))


def test_plastic_network_reports_the_float_weight_change():
    net = Network("plastic")
    net.add_input("in", encoder=RateEncoder(0.2, size=4, seed=1))
    net.add_population("a", 2, vth=1.0, bias=0.2)
    net.connect("in", "a", weights=np.full((4, 2), 0.25), learning_rule="dw = 2^-2*x1*y0 - 2^-3*y1*x0",
                traces={"x1": (32, 4), "y1": (32, 4)})
    rep = compare(net, 200)
    (row,) = rep.plastic
    assert row.projection == "in->a" and row.synapses == 8 and row.max_abs_change > 0
    assert "plastic projections" in str(rep)
    if row.divergence is None:
        assert any("no plastic synapses" in n for n in rep.notes)
    else:
        assert np.isfinite(row.divergence)


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    from compiler.precision.plots import save_report_plots

    rep = compare(exact_net(), 100)
    sw = sweep(exact_net(), weight_bits=[2, 8], steps=50)
    paths = save_report_plots(rep, tmp_path, sw)
    assert sorted(p.name for p in paths) == ["raster.png", "sweep.png", "voltages.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
