"""Reward-modulated learning (docs/reward.md) from first principles, at register level.

One plastic synapse from input axon 0 onto compartment 0; input axon 2 makes
the compartment fire through a strong static synapse; input axon 1 is the
reward channel of the synapse's learning profile.
"""

import numpy as np
import pytest

from loihi_emu import LOIHI1, Emulator, ImageError, build_image
from loihi_emu.image.profiles import LearningProfile

S = LOIHI1
RSTDP = "dt = x1*y0 - y1*x0; dw = u0*r0*t"  # STDP into the tag (eligibility), the tag into w on a reward spike


def _image(rule, reward_axon=1, r1=(0, 0), w0=20):
    regs = dict(decay_u_reg=4095, decay_v=4095, vth_mant=200, bias_mant=0, bias_exp=0, refract=1,
                vmin=S.v_min_limit, vmax=S.v_max_limit)
    prof = LearningProfile.from_rule(rule, traces={"x1": (60, 8), "y1": (60, 8), "r1": r1}, reward_axon=reward_axon)
    return build_image({k: np.full(1, v) for k, v in regs.items()}, np.zeros(1, int), n_in=3,
                       syn_pre=np.array([0, 2]), syn_post=np.array([0, 0]), syn_wmant=np.array([w0, 255]),
                       syn_wexp=np.array([0, 7]), syn_learning=np.array([0, -1]), learning_profiles=[prof])


def _run(image, events, steps=30, backend="numba"):
    """events: (step, axon) pairs; returns (wmant [steps], tag [steps], spikes [steps])."""
    emu = Emulator(image, probes=("wmant", "tag", "spikes"), backend=backend)
    emu.run(steps, np.array(events, np.int64).reshape(-1, 2))
    return emu.data["wmant"][:, 0], emu.data["tag"][:, 0], emu.data["spikes"][:, 0]


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_reward_after_a_pre_post_pair_potentiates(backend):
    w, tag, spk = _run(_image(RSTDP), [(2, 0), (4, 2), (12, 1)], backend=backend)
    assert spk[5] and spk.sum() == 1  # axon 2 at step 4 acts in step 5
    assert tag[6] > 0 and (tag[6:] == tag[6]).all()  # y0 arrives in step 6 with x1 > 0: a positive tag
    assert (w[:13] == 20).all() and w[13] == 20 + tag[6] and (w[13:] == w[13]).all()  # reward arrives in step 13


def test_reward_after_a_post_pre_pair_depresses():
    w, tag, _ = _run(_image(RSTDP), [(1, 2), (4, 0), (12, 1)])
    assert tag[5] < 0 and w[13] == 20 + tag[5] < 20


def test_no_reward_leaves_the_weight_unchanged():
    w, tag, spk = _run(_image(RSTDP), [(2, 0), (4, 2)])
    assert spk.sum() == 1 and tag[-1] > 0 and (w == 20).all()
    # and a reward channel that is not this profile's does nothing either
    w2, _, _ = _run(_image(RSTDP, reward_axon=-1), [(2, 0), (4, 2), (12, 1)])
    assert (w2 == 20).all()


def test_r1_is_a_trace_with_impulse_and_floor_decay():
    """dw = u0*r1 adds r1 every step: the increments are the reward trace, impulse 50, tau 4, two rewards."""
    w, _, _ = _run(_image("dw = u0*r1", r1=(50, 4), w0=-250), [(3, 1), (9, 1)], steps=20)
    r1, want = 0, []
    for t in range(20):
        if t in (4, 10):  # spikes of steps 3 and 9 arrive
            r1 = min(r1 + 50, 127)
        want.append(r1)  # the rule reads r1 after the impulse, before the decay
        r1 = r1 * 3 // 4
    np.testing.assert_array_equal(np.diff(np.concatenate([[-250], w])), want)


def test_r1_saturates_and_r0_lasts_one_epoch():
    w, _, _ = _run(_image("dw = u0*r1", r1=(100, 1000), w0=-250), [(1, 1), (2, 1)], steps=5)
    assert list(np.diff(np.concatenate([[-250], w]))) == [0, 0, 100, 127, 126]
    w, _, _ = _run(_image("dw = u0*r0", w0=0), [(1, 1), (5, 1)], steps=8)
    assert list(np.diff(np.concatenate([[0], w]))) == [0, 0, 1, 0, 0, 0, 1, 0]


def test_bad_reward_axon_is_an_image_error():
    with pytest.raises(ImageError, match="reward_axon"):
        Emulator(_image(RSTDP, reward_axon=7))


# ---------------------------------------------------------------- the network API and the float reference
def _net(reward_steps, rule="2^-8*u0*r1*x1", r1=(64, 8)):
    from compiler import Network

    net = Network("rw")
    steps = 40
    pre = np.zeros((steps, 1), bool)
    pre[::3] = True
    rew = np.zeros((steps, 1), bool)
    rew[list(reward_steps)] = True
    net.add_input("pre", 1, spikes=pre)
    net.add_input("reward", 1, spikes=rew)
    net.add_population("post", 1, tau_v=4, vth=100.0)
    net.connect("pre", "post", np.array([[0.5]]), learning_rule=rule, traces={"x1": (40, 6), "r1": r1},
                reward="reward", w_max=4.0, sign_mode="excitatory")
    return net, steps


def test_network_reward_channel_drives_emulator_and_float_reference_alike():
    import warnings

    from compiler.precision.reference import FloatSimulator
    from compiler.simulator import Simulator

    out = {}
    for name, when in (("rewarded", (10,)), ("silent", ())):
        net, steps = _net(when)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim = Simulator(net, probes=[("pre->post", "w")])
            sim.run(steps)
            ref = FloatSimulator(net, probes=["w"])
            ref.run(steps)
        out[name] = (sim.data["pre->post", "w"][:, 0], ref.data["w"][:, 0])
    emu, flt = out["rewarded"]
    assert emu[10] == emu[0] and abs(emu[0] - 0.5) < 0.01 and emu[-1] > 0.75  # learning starts with the reward
    assert flt[10] == 0.5 and flt[-1] > 0.75
    assert abs(emu[-1] - flt[-1]) < 0.15 * (flt[-1] - 0.5)  # the float reference follows the emulator
    assert (out["silent"][0] == out["silent"][0][0]).all() and (out["silent"][1] == 0.5).all()


def test_reward_must_be_a_one_axon_input_of_a_plastic_projection():
    from compiler import Network
    from compiler.errors import NetworkError

    net = Network("bad")
    net.add_input("a", 2, spikes=np.zeros((3, 2), bool))
    net.add_input("r2", 2, spikes=np.zeros((3, 2), bool))
    net.add_population("p", 1)
    for kw in (dict(reward="r2", learning_rule="u0*r1", traces={"r1": (1, 2)}), dict(reward="nope",
               learning_rule="u0"), dict(reward="a")):
        with pytest.raises(NetworkError, match="reward="):
            net.connect("a", "p", np.ones((2, 1)), **kw)
    assert not net.projections


def test_noise_and_reward_keys_round_trip_through_network_files(tmp_path):
    from compiler.network.netfile import load_network, save_network

    net, _ = _net((10,))
    net.add_population("noisy", 3, noise_exp=9, noise_offset=-2, noise_target="u")
    save_network(net, tmp_path / "n.json")
    back = load_network(tmp_path / "n.json")
    p = back.population("noisy")
    assert (p.noise_exp, p.noise_offset, p.noise_target) == (9, -2, "u")
    (proj,) = back.projections
    assert proj.reward == "reward" and proj.traces["r1"] == (64, 8)
    assert proj.learning_profile == net.projections[0].learning_profile
