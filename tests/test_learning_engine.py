"""The learning engine from first principles: dd/dt, epochs, stochastic rounding, splits, image tables."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loihi_emu import LOIHI1, Emulator, ImageError, ResourceError, build_image, load, save, validate
from loihi_emu.image.core import Core, Image, LearningProfileTable
from loihi_emu.image.profiles import LearningProfile, learning_table

S = LOIHI1
QUIET = dict(decay_u_reg=4095, decay_v=0, vth_mant=S.vth_mant_max, bias_mant=0, bias_exp=0, refract=1,
             vmin=S.v_min_limit, vmax=S.v_max_limit)
RULES = [
    "dw = 2^-2*x1*y0 - 2^-2*y1*x0",
    "dw = 3*2^-3*x1*y0 - 5*2^-4*y1*x0 + 2^-6*x1*y2*y0",
    "dw = 2^-3*x0*(3+y1) - 5*2^-3*x0 + 2^-4*y0*(w - 20)",
    "dw = 2^-2*x1*y0 - 2^-3*y1*x0; dd = x0*sgn(w) - 2^-1*y0; dt = y0*(x2 + 1) - u2*sgn(t)",
    "dw = u1*(-1) + 2^-7*y3*x2*y0; dt = 2^-5*x0*y1",
]
TRACES = {"x1": (40, 6), "x2": (90, 17), "y1": (55, 9), "y2": (20, 3), "y3": (120, 30)}


def plastic_net(seed, rule=RULES[0], epoch=1, rounding="det", n=14, n_in=5, n_syn=120, core_of=None,
                traces=TRACES, max_delay=3, active=True):
    """A random recurrent network, about half of its synapses plastic with one profile."""
    rng = np.random.default_rng(seed)
    regs = dict(decay_u_reg=rng.integers(100, 1000, n), decay_v=rng.integers(50, 800, n),
                vth_mant=rng.integers(20, 200, n), bias_mant=rng.integers(0, 300, n), bias_exp=rng.integers(0, 3, n),
                refract=rng.integers(1, 4, n), vmin=np.full(n, S.v_min_limit), vmax=np.full(n, S.v_max_limit))
    sign = rng.integers(1, 4, n_syn)
    wbits = np.where(sign == 1, rng.integers(2, 10, n_syn), rng.integers(1, 9, n_syn))
    lo = np.where(sign == 2, 0, -256)
    hi = np.where(sign == 3, 0, np.where(sign == 1, 254, 255))
    syn = dict(syn_pre=rng.integers(0, n_in + n, n_syn), syn_post=rng.integers(0, n, n_syn),
               syn_wmant=rng.integers(lo, hi + 1), syn_wexp=rng.integers(-2, 3, n_syn),
               syn_delay=rng.integers(0, max_delay + 1, n_syn), syn_sign_mode=sign, syn_weight_bits=wbits,
               syn_tag=rng.integers(-20, 21, n_syn), syn_learning=np.where(rng.random(n_syn) < 0.6, 0, -1))
    prof = LearningProfile.from_rule(rule, traces=traces, epoch=epoch, rounding=rounding)
    core_of = np.zeros(n, int) if core_of is None else np.asarray(core_of)
    image = build_image(regs, core_of, n_in=n_in, learning_profiles=[prof], **syn)
    inputs = (rng.random((80, n_in)) < (0.3 if active else 0.05)).astype(np.uint8)
    return regs, syn, prof, image, inputs


LEARN_PROBES = ["spikes", "u", "v", "w", "wmant", "delay", "tag", "x1", "x2", "y1", "y2", "y3"]


def _run(image, inputs, **kw):
    emu = Emulator(image, probes=LEARN_PROBES, **kw)
    emu.run(inputs.shape[0], inputs)
    return emu


def _same(a, b):
    for k in LEARN_PROBES + ["spike_events"]:
        np.testing.assert_array_equal(a.data[k], b.data[k], err_msg=k)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rule=st.sampled_from(RULES), epoch=st.sampled_from([1, 3]),
       rounding=st.sampled_from(["det", "stochastic"]), n_cores=st.integers(2, 6))
def test_learning_bits_do_not_depend_on_split_or_backend(seed, rule, epoch, rounding, n_cores):
    regs, syn, prof, one, inputs = plastic_net(seed, rule, epoch, rounding)
    core_of = np.random.default_rng(seed + 1).integers(0, n_cores, 14) * 5 + 128
    many = build_image(regs, core_of, n_in=5, learning_profiles=[prof], **syn)
    assert len(many.cores) > 1
    a = _run(one, inputs, seed=11)
    _same(a, _run(many, inputs, seed=11))
    _same(a, _run(one, inputs, seed=11, backend="numpy"))
    syn_a = a.plastic_synapses()
    syn_b = Emulator(many).plastic_synapses()
    np.testing.assert_array_equal(syn_a["source"], syn_b["source"])
    np.testing.assert_array_equal(syn_a["target"], syn_b["target"])


def test_learning_changes_weights_and_seed_matters_only_when_stochastic():
    *_, image, inputs = plastic_net(5, RULES[0], rounding="stochastic", active=True)
    a, b = _run(image, inputs, seed=1), _run(image, inputs, seed=2)
    assert (a.data["wmant"][-1] != a.data["wmant"][0]).any()
    assert not np.array_equal(a.data["x1"], b.data["x1"])  # stochastic trace decay depends on the seed
    *_, det, inputs = plastic_net(5, RULES[0], rounding="det")
    _same(_run(det, inputs, seed=1), _run(det, inputs, seed=2))


def _one_synapse(rule, traces=None, epoch=1, wmant=0, delay=0, tag=0, sign=1, wbits=9, wexp=0, rounding="det",
                 vth_mant=S.vth_mant_max):
    """Input 0 -> compartment 0 (plastic); input 1 -> compartment 0 (static, strong) to make it spike."""
    prof = LearningProfile.from_rule(rule, traces=traces or {}, epoch=epoch, rounding=rounding)
    regs = dict(QUIET, decay_u_reg=4095, vth_mant=vth_mant)
    return build_image(regs, np.zeros(1, int), n_in=2, syn_pre=[0, 1], syn_post=[0, 0], syn_wmant=[wmant, 254],
                       syn_wexp=[wexp, 7], syn_delay=[delay, 0], syn_sign_mode=[sign, 1], syn_weight_bits=[wbits, 9],
                       syn_tag=[tag, 0], syn_learning=[0, -1], learning_profiles=[prof])


def test_dd_moves_the_delay_and_spikes_follow_it():
    image = _one_synapse("dd = x0", delay=0, wmant=100, vth_mant=1)
    inputs = np.zeros((80, 2), np.uint8)
    inputs[::2, 0] = 1  # 40 arrivals: the delay climbs by one per arrival and stops at 62
    emu = Emulator(image, probes=["delay", "u"])
    emu.run(80, inputs)
    d = emu.data["delay"][:, 0]
    # a spike in step s arrives in step s + 1, where the rule runs: delay after step t = arrivals up to t
    want = np.minimum(np.cumsum(np.r_[0, inputs[:-1, 0]]), S.max_delay)
    np.testing.assert_array_equal(d, want)
    # the spike of step 0 was delivered with delay 0 (acts in step 1), the one of step 2 with delay 1 (step 4)
    u = emu.data["u"][:, 0]
    assert u[1] == 100 << 6 and u[2] == 0 and u[3] == 0 and u[4] == 100 << 6


def test_dd_clips_at_zero_and_dt_clips_at_tag_range():
    image = _one_synapse("dd = -2*x0; dt = 3*2^2*x0", delay=3, tag=100)
    inputs = np.zeros((10, 2), np.uint8)
    inputs[:4, 0] = 1
    emu = Emulator(image, probes=["delay", "tag"])
    emu.run(10, inputs)
    np.testing.assert_array_equal(emu.data["delay"][:6, 0], [3, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(emu.data["tag"][:6, 0], [100, 112, 124, S.tag_range[1], S.tag_range[1],
                                                           S.tag_range[1]])


def test_weight_step_and_clip_by_sign_mode():
    # excitatory 6 bits: P = 2^(8-6) = 4; dw = 3*x0 rounds to 0 (trunc(3/4)); dw = 7*x0 steps by 4
    for rule, step in (("dw = 3*x0", 0), ("dw = 7*x0", 4), ("dw = -7*x0", -4)):
        image = _one_synapse(rule, wmant=100, sign=2, wbits=6)
        inputs = np.zeros((200, 2), np.uint8)
        inputs[:100, 0] = 1
        emu = Emulator(image, probes=["wmant"])
        emu.run(200, inputs)
        w = emu.data["wmant"][:, 0]
        assert w[0] == 100 and w[1] == 100 + step
        assert w[-1] == (255 if step > 0 else (0 if step < 0 else 100))
    # mixed: the mantissa stays in -256..254 even with P = 1
    image = _one_synapse("dw = 7*x0", wmant=250)
    inputs = np.ones((5, 2), np.uint8)
    emu = Emulator(image, probes=["wmant", "w"])
    emu.run(5, inputs)
    assert emu.data["wmant"][-1, 0] == 254 and emu.data["w"][-1, 0] == 254 << 6


def test_fixed_point_product_rounds_away_from_zero():
    # dw = 2^-3*x0*(y1 - 100) with y1 = 0: -100/8 = -12.5 -> R = -13; dw = 2^-8*x0*x1 with x1 = 1 -> +1
    image = _one_synapse("dw = 2^-3*x0*(y1 - 100) + 2^-8*x0*x1", traces={"x1": (1, 1), "y1": (5, 2)}, wmant=50)
    inputs = np.zeros((3, 2), np.uint8)
    inputs[0, 0] = 1
    emu = Emulator(image, probes=["wmant", "x1", "y1"])
    emu.run(3, inputs)
    # step 1: x1 = 1 (impulse), y1 = 0: dw = -12.5 + 1/256 -> ceil(12.496...) = 13 away from zero
    assert emu.data["x1"][1, 0] == 1 and emu.data["y1"][1, 0] == 0
    assert emu.data["wmant"][1, 0] == 50 - 13


def test_epoch_one_equals_the_per_step_rule_and_longer_epochs_gather_spikes():
    inputs = np.zeros((24, 2), np.uint8)
    inputs[[0, 1, 2, 9, 16, 17], 0] = 1  # arrivals in steps 1, 2, 3, 10, 17, 18
    arrivals = np.flatnonzero(np.r_[0, inputs[:-1, 0]])
    for epoch in (1, 4):
        image = _one_synapse("dw = x0", epoch=epoch)
        emu = Emulator(image, probes=["wmant"])
        emu.run(24, inputs)
        w = emu.data["wmant"][:, 0]
        # rule applied at the last step of each epoch, +1 if the epoch saw at least one arrival
        want = np.zeros(24, int)
        for t in range(24):
            if (t + 1) % epoch == 0:
                hit = ((arrivals > t - epoch) & (arrivals <= t)).any()
                want[t:] += int(hit)
        np.testing.assert_array_equal(w, want)
        changes = np.flatnonzero(np.diff(np.r_[0, w]))
        if epoch == 1:  # the per-step rule: +1 in every arrival step
            np.testing.assert_array_equal(changes, arrivals)
        else:  # epochs 0..3, 8..11, 16..19 saw arrivals; each adds 1 once, at its last step
            np.testing.assert_array_equal(changes, [3, 11, 19])


def test_epoch_reads_traces_at_its_end_and_u_k_ticks_within_it():
    # T = 5, one arrival in step 1: x1 = 64 then decays with tau 2: 64, 32, 16, 8 at steps 1..4
    image = _one_synapse("dw = 2^-2*x1*x0 + u3", traces={"x1": (64, 2)}, epoch=5)
    inputs = np.zeros((20, 2), np.uint8)
    inputs[0, 0] = 1
    emu = Emulator(image, probes=["wmant", "x1"])
    emu.run(20, inputs)
    np.testing.assert_array_equal(emu.data["x1"][1:5, 0], [64, 32, 16, 8])
    w = emu.data["wmant"][:, 0]
    # step 4 ends epoch 0: x0 = 1, x1 = 8 -> +2; u3 ticks at step 0 -> +1. Epoch 1 (5..9) has step 8 -> +1.
    # Epoch 2 (10..14): no multiple of 8 -> +0. Epoch 3 (15..19) has 16 -> +1.
    assert (w[3], w[4], w[9], w[14], w[19]) == (0, 3, 4, 4, 5)


def test_stochastic_trace_decay_mean_follows_tau():
    # many sources with x1 = 127 decaying once: the mean of the next value is 127 * (tau - 1) / tau
    n_in, tau = 4000, 7
    prof = LearningProfile.from_rule("dw = x0", traces={"x1": (127, tau)}, rounding="stochastic")
    image = build_image(QUIET, np.zeros(1, int), n_in=n_in, syn_pre=np.arange(n_in), syn_post=np.zeros(n_in, int),
                        syn_wmant=np.zeros(n_in, int), syn_learning=np.zeros(n_in, int), learning_profiles=[prof])
    inputs = np.zeros((3, n_in), np.uint8)
    inputs[0] = 1
    means = []
    for seed in range(3):
        emu = Emulator(image, seed=seed, probes=["x1"])
        emu.run(3, inputs)
        x = emu.data["x1"][2, :n_in]
        assert set(np.unique(x)) == {108, 109}  # floor and ceil of 127 * 6/7 = 108.857
        means.append(x.mean())
    want = 127 * (tau - 1) / tau
    sd = np.sqrt(0.857 * 0.143 / n_in)
    assert all(abs(m - want) < 5 * sd for m in means)
    assert len(set(means)) > 1  # the seed is used


def test_image_with_learning_round_trips_and_validates(tmp_path):
    *_, image, _ = plastic_net(3, RULES[3])
    path = tmp_path / "learn.npz"
    save(image, path)
    back = load(path)
    assert back.equals(image)
    assert back.cores[0].learning.n == 1 and back.cores[0].learning.equals(image.cores[0].learning)
    validate(back, profiles=False)  # random registers exceed the profile tables; the rest must fit
    c = image.cores[0]
    with pytest.raises(ImageError, match=r"learning_profile\[\d+\] = 1 is outside -1..0"):
        bad = c.formats.learning_profile.copy()
        bad[bad == 0] = 1
        Core(c.chip, c.index, c.compartments,
             type(c.formats)(c.formats.weight_bits, c.formats.weight_exp, c.formats.sign_mode, bad), c.synapses,
             c.routes, c.learning)
    with pytest.raises(ImageError, match=r"SynapseTable.tag\[0\] = 200 is outside -128..127"):
        type(c.synapses)([0, 1], [0], [0], [0], [0], [200])
    lt = c.learning
    code = lt.code.copy()
    code[0] = 0xA0  # unknown opcode
    with pytest.raises(ImageError, match=r"LearningProfileTable.code of profile 0: bad microcode"):
        LearningProfileTable(lt.code_ptr, code, *[getattr(lt, f) for f in list(lt.DTYPES)[2:]])
    with pytest.raises(ImageError, match=r"epoch\[0\] = 64 is outside 1..63 steps"):
        learning_table([LearningProfile(lt.microcode(0), epoch=64)])


def test_plastic_mixed_mantissa_255_is_rejected():
    with pytest.raises(ImageError, match=r"wmant\[0\] = 255 is outside -256..254 for plastic mixed format"):
        _one_synapse("dw = x0", wmant=255)


def test_limits_count_learning_and_trace_profiles():
    profs = [LearningProfile.from_rule("dw = x0", traces={"x1": (i, 4)}) for i in range(9)]
    n = 9
    image = build_image(QUIET, np.zeros(1, int), n_in=n, syn_pre=np.arange(n), syn_post=np.zeros(n, int),
                        syn_wmant=np.zeros(n, int), syn_learning=np.arange(n), learning_profiles=profs)
    with pytest.raises(ResourceError, match="uses 9 learning profiles; the limit is 8"):
        validate(image)
    image = build_image(QUIET, np.zeros(1, int), n_in=4, syn_pre=np.arange(4), syn_post=np.zeros(4, int),
                        syn_wmant=np.zeros(4, int), syn_learning=np.arange(4), learning_profiles=profs[:4])
    with pytest.raises(ResourceError, match="uses 4 trace profiles; the limit is 3"):
        validate(image)
    validate(image, profiles=False)


def test_a_plastic_row_with_two_sources_is_rejected():
    image = _one_synapse("dw = x0")
    c = image.cores[0]
    routes = type(image.inputs)([0, 1, 2], [0, 0], [0, 0], [0, 0])  # inputs 0 and 1 both -> axon 0
    twice = Image((Core(c.chip, c.index, c.compartments, c.formats, c.synapses, c.routes, c.learning),), routes)
    with pytest.raises(ImageError, match="input axon 0 holds plastic synapses and is reached by 2 sources"):
        Emulator(twice)


def test_static_networks_have_no_learning_state():
    image = build_image(QUIET, np.zeros(2, int), n_in=1, syn_pre=[0], syn_post=[1], syn_wmant=[5])
    emu = Emulator(image, probes=["w", "x1"])
    emu.run(3, [(0, 0)])
    assert emu.learning is None
    assert emu.data["w"].shape == (3, 0) and (emu.data["x1"] == -1).all()
