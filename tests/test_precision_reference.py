"""The float reference's timing and dynamics from first principles (compiler/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest

from compiler import FloatLearning, FloatReferenceError, FloatSimulator, Network
from loihi_emu import Probe


def one_input_net(delay: int = 0, weight: float = 2.0, **pop) -> Network:
    net = Network("t")
    net.add_input("in", 1)
    params = dict(tau_u=1, vth=1.0) | pop
    net.add_population("a", 1, **params)
    net.connect("in", "a", weights=[[weight]], delay=delay)
    return net


@pytest.mark.parametrize("delay", [0, 1, 5, 62])
def test_spike_in_step_s_with_delay_d_acts_in_step_s_plus_1_plus_d(delay):
    net = one_input_net(delay)
    sim = FloatSimulator(net, probes=["spikes", "u"])
    inp = np.zeros((80, 1), np.uint8)
    inp[3, 0] = 1
    sim.run(80, inp)
    assert sim.data["spike_events"].tolist() == [[3 + 1 + delay, 0]]
    u = sim.data["u"][:, 0]
    assert u[3 + 1 + delay] == 2.0 and np.count_nonzero(u) == 1  # tau_u = 1: u holds one step's input


@pytest.mark.parametrize("r", [1, 2, 5])
def test_refractory_leaves_r_minus_1_silent_steps_with_v_held_at_zero(r):
    net = Network("r")
    net.add_population("a", 1, vth=1.0, bias=1.5, refractory=r)  # v > vth in the first free step
    sim = FloatSimulator(net, probes=["spikes", "v", "u"])
    sim.run(20, None)
    assert np.flatnonzero(sim.data["spikes"][:, 0]).tolist() == list(range(0, 20, r))
    assert (sim.data["v"] == 0).all()  # reset on spike, held at 0 while refractory
    assert (sim.data["u"] == 0).all()  # the bias never enters the stored u


def test_strict_threshold_and_integration():
    net = Network("s")
    net.add_population("a", 1, vth=1.0, bias=0.25)  # v = 0.25 k: equals vth at k = 4, spikes at k = 5
    sim = FloatSimulator(net, probes=["spikes", "v"])
    sim.run(12, None)
    assert np.flatnonzero(sim.data["spikes"][:, 0]).tolist() == [4, 9]
    assert sim.data["v"][:4, 0].tolist() == [0.25, 0.5, 0.75, 1.0]


def test_leaky_period_matches_the_analytic_formula():
    b, vth, tau, r, steps = 0.11, 1.0, 10.0, 3, 300
    net = Network("leak")
    net.add_population("a", 1, tau_v=tau, vth=vth, bias=b, refractory=r)
    sim = FloatSimulator(net, probes=["spikes"])
    sim.run(steps, None)
    # v after k free steps: b tau (1 - (1 - 1/tau)^k); first k with v > vth
    k = int(np.floor(np.log(1 - vth / (b * tau)) / np.log(1 - 1 / tau))) + 1
    period = k + r - 1
    expected = list(range(k - 1, steps, period))
    assert np.flatnonzero(sim.data["spikes"][:, 0]).tolist() == expected


def test_decay_registers_are_used_exactly():
    net = Network("reg")
    net.add_population("a", 1, decay_u_reg=1023, decay_v_reg=1024, vth=100.0)
    net.add_input("in", 1)
    net.connect("in", "a", weights=[[1.0]])
    sim = FloatSimulator(net, probes=["u", "v"])
    sim.run(4, np.array([[1], [0], [0], [0]], np.uint8))
    ku, kv = (4096 - 1024) / 4096, (4096 - 1024) / 4096
    u = [0.0, 1.0, ku, ku * ku]
    v = [0.0, 1.0, kv + ku, kv * (kv + ku) + ku * ku]
    assert sim.data["u"][:, 0] == pytest.approx(u)
    assert sim.data["v"][:, 0] == pytest.approx(v)


def test_vmin_clips_v():
    net = Network("clip")
    net.add_population("a", 1, bias=-0.3, vmin=-1.0)
    sim = FloatSimulator(net, probes=["v"])
    sim.run(6, None)
    assert sim.data["v"][:, 0] == pytest.approx([-0.3, -0.6, -0.9, -1.0, -1.0, -1.0])


def test_pairs_and_dense_inputs_agree_and_probes_select():
    net = Network("p")
    net.add_input("in", 3)
    net.add_population("a", 4, tau_u=2, tau_v=5)
    net.connect("in", "a", weights=np.arange(12).reshape(3, 4) / 10)
    dense = np.zeros((10, 3), np.uint8)
    dense[[1, 4, 4], [0, 2, 1]] = 1
    s1 = FloatSimulator(net, probes=["v", Probe("u", compartments=(1, 3), every=5, name="u13")])
    s1.run(10, dense)
    s2 = FloatSimulator(net, probes=["v"])
    s2.run(10, np.array([[1, 0], [4, 2], [4, 1]]))
    assert np.array_equal(s1.data["v"], s2.data["v"])
    assert s1.data["u13"].shape == (2, 2)
    with pytest.raises(FloatReferenceError, match="shape"):
        s2.run(5, np.zeros((4, 3), np.uint8))
    with pytest.raises(FloatReferenceError, match="probe 'x1'"):
        FloatSimulator(net, probes=["x1"])


def test_delivery_is_vectorised_over_many_compartments():
    rng = np.random.default_rng(0)
    net = Network("big")
    net.add_input("in", 100)
    net.add_population("a", 2000, tau_u=4, tau_v=16)
    net.connect("in", "a", weights=(rng.random((100, 2000)) < 0.1) * 0.3, delay=rng.integers(0, 5, (100, 2000)))
    net.connect("a", "a", weights=(rng.random((2000, 2000)) < 0.01) * 0.2)
    inp = (rng.random((200, 100)) < 0.05).astype(np.uint8)
    sim = FloatSimulator(net, probes=["spikes"])
    sim.run(200, inp)
    # check one step against a dense reference: q(t) = sum over d of W_d^T s(t-1-d)
    assert sim.data["spikes"].sum() > 0
    w_in = np.zeros((5, 100, 2000))
    proj = net.projections[0]
    w_in[proj.delays(), proj.pre_index, proj.post_index] = proj.weight
    rec = net.projections[1]
    w_rec = np.zeros((2000, 2000))
    w_rec[rec.pre_index, rec.post_index] = rec.weight
    s = sim.data["spikes"].astype(float)
    t = 150
    q = sum(inp[t - 1 - d] @ w_in[d] for d in range(5)) + s[t - 1] @ w_rec
    sim2 = FloatSimulator(net, probes=["u"])
    sim2.run(t + 1, inp[: t + 1])
    u = sim2.data["u"]
    assert u[t] == pytest.approx(0.75 * u[t - 1] + q)


def stdp_net(rule: str, weight: float = 0.125, traces=None, **kw) -> Network:
    net = Network("stdp")
    net.add_input("in", 1)
    net.add_population("a", 1, vth=1.0, bias=0.25)
    net.connect("in", "a", weights=[[weight]], learning_rule=rule, traces=traces, **kw)
    return net


def test_float_learning_follows_the_chip_schedule():
    # input spike in step 0 arrives in step 1: x1 = 64, then decays by 3/4 per step;
    # v: 0.25, 0.625 (input of step 1), 0.875, 1.125 -> the compartment spikes in step 3,
    # so y0 = 1 in step 4, where x1 = 64 * 0.75^3: dw = 2^-2 * 27 = 6.75 mantissa steps
    net = stdp_net("dw = 2^-2*x1*y0", traces={"x1": (64, 4)})
    sim = FloatSimulator(net, probes=["spikes", "w"], learning=FloatLearning(weight_unit=0.01))
    inp = np.zeros((7, 1), np.uint8)
    inp[0, 0] = 1
    sim.run(7, inp)
    assert sim.data["spike_events"].tolist() == [[3, 0]]
    w = sim.data["w"][:, 0]
    assert w[:4] == pytest.approx([0.125] * 4)
    assert w[4:] == pytest.approx([0.125 + 6.75 * 0.01] * 3)


def test_float_learning_keeps_the_sign_and_can_be_switched_off():
    # no input: v = 0.25 k spikes in steps 4 and 9, so y0 = 1 in steps 5 and 10
    net = stdp_net("dw = -8*y0")
    sim = FloatSimulator(net, probes=["w"], learning=FloatLearning(weight_unit=0.01))
    sim.run(11, None)
    w = sim.data["w"][:, 0]
    assert w[4] == 0.125 and w[5] == pytest.approx(0.125 - 0.08)
    assert w[10] == 0.0  # excitatory: clipped at 0, not negative
    static = FloatSimulator(net, probes=["w"], plastic=False)
    static.run(8, None)
    assert static.data["w"].shape == (8, 0)


def test_float_learning_default_unit_is_the_compilers():
    net = stdp_net("dw = y0")
    sim = FloatSimulator(net, probes=["w"])
    sim.run(6, None)  # y0 = 1 in step 5
    # scale s = 255 * 64 / 0.125 (the weight fills the mantissa); one mantissa step = 64 / s model units
    assert sim.data["w"][-1, 0] == pytest.approx(0.125 + 64 / (255 * 64 / 0.125))


def test_missing_trace_settings_and_dd_rules_are_errors():
    net = stdp_net("dw = x1*y0", traces={"x1": (10, 3)})
    with pytest.raises(FloatReferenceError, match="reads x1"):
        FloatSimulator(net, learning={"in->a": FloatLearning(traces={"y1": (1, 2)})})
    with pytest.raises(FloatReferenceError, match="dw rules only"):
        FloatSimulator(stdp_net("dd = y0"))


def test_float_learning_overrides_the_projection_traces():
    net = stdp_net("dw = 2^-2*x1*y0", traces={"x1": (64, 4)})
    inp = np.zeros((6, 1), np.uint8)
    inp[0, 0] = 1
    sim = FloatSimulator(net, probes=["w"], learning=FloatLearning(traces={"x1": (32, 2)}, weight_unit=0.01))
    sim.run(6, inp)
    assert sim.data["w"][-1, 0] == pytest.approx(0.125 + 0.25 * 32 * 0.5**3 * 0.01)


def test_learning_epoch_runs_the_rule_once_per_epoch_on_any_spike_in_it():
    # the compartment spikes in steps 3 and 8 (see above); y0 = 1 in steps 4 and 9; with T = 5 the rule runs
    # at steps 4 and 9 (the last steps of epochs [0, 4] and [5, 9]): y0 seen in both, dw = 1 each time
    net = stdp_net("dw = y0", learning_epoch=5)
    sim = FloatSimulator(net, probes=["w"], learning=FloatLearning(weight_unit=0.01))
    inp = np.zeros((10, 1), np.uint8)
    inp[0, 0] = 1
    sim.run(10, inp)
    w = sim.data["w"][:, 0]
    assert w[3] == pytest.approx(0.125) and w[4] == pytest.approx(0.135) and w[8] == pytest.approx(0.135)
    assert w[9] == pytest.approx(0.145)
    net = stdp_net("dw = y0", learning_epoch=3)  # epochs [3, 5] and [6, 8] see y0 in steps 4 and ... none
    sim = FloatSimulator(net, probes=["w"], learning=FloatLearning(weight_unit=0.01))
    sim.run(9, inp[:9])
    assert sim.data["w"][:, 0] == pytest.approx([0.125] * 5 + [0.135] * 4)
