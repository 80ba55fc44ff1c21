"""Compartment noise (docs/noise.md): the draw, the scaling, where it enters, its limits and its invariances."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netgen import image_on_cores, random_network
from test_kernels import _arrays, _copy, _random_regs, _random_state

from compiler import Network
from compiler.errors import ParameterError
from compiler.precision.reference import FloatSimulator
from compiler.simulator import Simulator
from loihi_emu import LOIHI1, Emulator
from loihi_emu.errors import ImageError, ResourceError
from loihi_emu.image.limits import validate
from loihi_emu.rng import noise_r_python
from loihi_emu.runtime.kernels import update_numba, update_numpy
from loihi_emu.runtime.noise import noise_base, noise_numpy

S = LOIHI1


def _noise_fields(rng, n, seed):
    return dict(has_noise=1, noise_mode=rng.integers(0, 3, n).astype(np.uint8),
                noise_shift=(rng.integers(0, 24, n) - 7).astype(np.int32),
                noise_off=(rng.integers(-128, 128, n) << 6).astype(np.int32), noise_base=noise_base(seed))


def _noise_python(seed, t, g, exp, offset):
    """The noise of docs/noise.md in Python integers: r from the hash, then trunc((r + 64 off) * 2^(exp - 7))."""
    y = noise_r_python(seed, t, g) + 64 * offset
    if exp >= 7:
        return y << (exp - 7)
    mag = abs(y) >> (7 - exp)
    return mag if y >= 0 else -mag


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(-2**40, 2**63), t=st.integers(0, 10**6), n=st.integers(1, 50))
def test_noise_numpy_matches_python_reference(seed, t, n):
    rng = np.random.default_rng(abs(seed) % 2**32)
    f = _noise_fields(rng, n, seed)
    f["noise_mode"][:] = 1
    got = noise_numpy(type("A", (), f), t)
    exp, off = f["noise_shift"] + 7, f["noise_off"] >> 6
    want = [_noise_python(seed, t, g, int(exp[g]), int(off[g])) for g in range(n)]
    assert got.tolist() == want


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3000), n_blocks=st.integers(1, 4), t=st.integers(0, 10**5))
def test_update_kernel_with_noise_matches_numpy_twin(seed, n, n_blocks, t):
    rng = np.random.default_rng(seed)
    a0 = _arrays(n, indptr=np.zeros((n_blocks, n + 1), np.int64), **_random_state(rng, n, 1),
                 **_random_regs(rng, n), **_noise_fields(rng, n, seed))
    outs = []
    for fn in (update_numpy, update_numba):
        a = _copy(a0)
        fn(a, t)
        outs.append(a)
    for k in ("u", "v", "cnt", "spiked", "wraps", "first_wrap"):
        np.testing.assert_array_equal(getattr(outs[0], k), getattr(outs[1], k), err_msg=k)


def test_draw_is_uniform_on_minus127_to_127():
    """Chi-square of r over 255 bins (200k draws); mean and variance of exp = 7 noise (r + 64 offset)."""
    n, steps = 2000, 100
    f = dict(noise_mode=np.ones(n, np.uint8), noise_shift=np.zeros(n, np.int32),
             noise_off=np.full(n, 64 * 3, np.int32), noise_base=noise_base(7))
    a = type("A", (), f)
    r = np.concatenate([noise_numpy(a, t) for t in range(steps)]) - 64 * 3
    assert r.min() == -127 and r.max() == 127
    counts = np.bincount(r + 127, minlength=255)
    expect = r.size / 255
    chi2 = float(((counts - expect) ** 2 / expect).sum())
    assert chi2 < 254 + 5 * np.sqrt(2 * 254)  # 254 degrees of freedom: mean 254, sd 22.5
    assert abs(r.mean()) < 5 * np.sqrt((255**2 - 1) / 12 / r.size)
    assert abs(r.var() / ((255**2 - 1) / 12) - 1) < 0.02
    # no correlation between neighbouring compartments or consecutive steps
    grid = r.reshape(steps, n).astype(float)
    assert abs(np.corrcoef(grid[:, :-1].ravel(), grid[:, 1:].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(grid[:-1].ravel(), grid[1:].ravel())[0, 1]) < 0.01


def test_scaling_truncates_toward_zero():
    # exp 5: (r + 64 off) / 4 truncated toward zero, so |noise| <= (127 + 64|off|) / 4 and symmetric for off = 0
    n = 5000
    a = type("A", (), dict(noise_mode=np.ones(n, np.uint8), noise_shift=np.full(n, -2, np.int32),
                           noise_off=np.zeros(n, np.int32), noise_base=noise_base(3)))
    nz = noise_numpy(a, 11)
    r = nz * 4  # recover the truncation: r and nz*4 differ by less than 4 in magnitude, same sign
    assert nz.min() == -31 and nz.max() == 31
    base = type("A", (), dict(vars(a), noise_shift=np.zeros(n, np.int32)))
    raw = noise_numpy(base, 11)
    np.testing.assert_array_equal(nz, np.sign(raw) * (np.abs(raw) // 4))
    assert (np.abs(raw - r) < 4).all()
    # exp 10: an exact left shift by 3
    up = type("A", (), dict(vars(a), noise_shift=np.full(n, 3, np.int32)))
    np.testing.assert_array_equal(noise_numpy(up, 11), raw * 8)


def _one_core(mode, exp=9, offset=0, n=8, decay_u_reg=4095, decay_v=4095):
    regs = dict(decay_u_reg=decay_u_reg, decay_v=decay_v, vth_mant=S.vth_mant_max, bias_mant=0, bias_exp=0,
                refract=1, vmin=S.v_min_limit, vmax=S.v_max_limit, noise_mode=mode, noise_exp=exp,
                noise_offset=offset)
    syn = dict(syn_pre=np.zeros(0, int), syn_post=np.zeros(0, int), syn_wmant=np.zeros(0, int))
    return image_on_cores({k: np.full(n, v) for k, v in regs.items()}, syn, 0, np.zeros(n, int))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_noise_into_q_is_the_current_when_u_keeps_nothing(backend):
    """decay_u_reg 4095 keeps 0 of u: u(t) = q(t) = noise(t) exactly (no input); v keeps 1/4096 and adds u."""
    img = _one_core(1, exp=9, offset=2)
    emu = Emulator(img, seed=5, probes=["u", "v"], backend=backend)
    emu.run(30)
    want = np.array([[_noise_python(5, t, g, 9, 2) for g in range(8)] for t in range(30)])
    np.testing.assert_array_equal(emu.data["u"], want)
    v = np.zeros(8, np.int64)
    for t in range(30):
        v = np.sign(v) * ((np.abs(v) * 1) >> 12) + want[t]
        np.testing.assert_array_equal(emu.data["v"][t], v)


def test_noise_into_u2_skips_the_current():
    img = _one_core(2, exp=12, offset=-1)
    emu = Emulator(img, seed=9, probes=["u", "v"])
    emu.run(20)
    assert not emu.data["u"].any()
    v = np.zeros(8, np.int64)
    for t in range(20):
        v = np.sign(v) * (np.abs(v) >> 12) + np.array([_noise_python(9, t, g, 12, -1) for g in range(8)])
        np.testing.assert_array_equal(emu.data["v"][t], v)


def test_noise_off_changes_nothing():
    """An image with explicit zero noise fields runs bit-identically to one without them."""
    regs, syn, inputs = random_network(4, max_delay=3)
    a = image_on_cores(regs, syn, 6, np.arange(40) % 3)
    b = image_on_cores({**regs, "noise_mode": 0, "noise_exp": 0, "noise_offset": 0}, syn, 6, np.arange(40) % 3)
    runs = []
    for img in (a, b):
        e = Emulator(img, seed=3, probes=["spikes", "u", "v"])
        e.run(60, inputs)
        runs.append(e)
    for k in ("spikes", "u", "v"):
        np.testing.assert_array_equal(runs[0].data[k], runs[1].data[k])
    assert runs[0].arrays.has_noise == 0


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_cores=st.integers(2, 30))
def test_noise_is_independent_of_the_split(seed, n_cores):
    regs, syn, inputs = random_network(seed, max_delay=3)
    rng = np.random.default_rng(seed)
    noisy = {**regs, "noise_mode": rng.integers(0, 3, 40), "noise_exp": rng.integers(8, 16, 40),
             "noise_offset": rng.integers(-3, 4, 40)}
    one = image_on_cores(noisy, syn, 6, np.zeros(40, int))
    many = image_on_cores(noisy, syn, 6, rng.integers(0, n_cores, 40) * 3 + 130)
    outs = []
    for img, kw in ((one, {}), (many, {}), (many, {"n_threads": 3}), (one, {"backend": "numpy"})):
        e = Emulator(img, seed=seed, probes=["spikes", "u", "v"], **kw)
        e.run(60, inputs)
        outs.append(e.data)
    for d in outs[1:]:
        for k in ("spikes", "u", "v"):
            np.testing.assert_array_equal(outs[0][k], d[k], err_msg=k)
    other = Emulator(one, seed=seed + 1, probes=["v"])
    other.run(60, inputs)
    assert not np.array_equal(other.data["v"], outs[0]["v"])  # the seed matters


def test_image_checks_noise_fields():
    with pytest.raises(ImageError, match="noise_exp"):
        _one_core(1, exp=24)
    with pytest.raises(ImageError, match="noise_mode"):
        _one_core(3)


def test_one_noise_setting_per_core():
    regs = {k: np.full(4, v) for k, v in dict(decay_u_reg=0, decay_v=0, vth_mant=10, bias_mant=0, bias_exp=0,
                                              refract=1, vmin=S.v_min_limit, vmax=S.v_max_limit).items()}
    syn = dict(syn_pre=np.zeros(0, int), syn_post=np.zeros(0, int), syn_wmant=np.zeros(0, int))
    two = {**regs, "noise_mode": np.array([0, 1, 1, 2]), "noise_exp": 5, "noise_offset": 0}
    with pytest.raises(ResourceError, match="noise settings"):
        validate(image_on_cores(two, syn, 0, np.zeros(4, int)))
    assert validate(image_on_cores(two, syn, 0, np.array([0, 0, 0, 1])))[0].noise_settings == 1


def _two_pops(noise_b):
    net = Network("n")
    net.add_population("a", 30, tau_v=4, noise_exp=10)
    net.add_population("b", 30, tau_v=4, **noise_b)
    net.add_population("c", 30, tau_v=4)
    return net


@pytest.mark.parametrize("noise_b, shared", [(dict(noise_exp=10), True), (dict(noise_exp=11), False),
                                             (dict(noise_exp=10, noise_target="u"), False), ({}, True)])
def test_partitioner_keeps_one_noise_setting_per_core(noise_b, shared):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulator(_two_pops(noise_b), probes=[("a", "v")])
    cores = sim.image.cores
    assert (len(cores) == 1) == shared
    assert all(u.noise_settings <= 1 for u in validate(sim.image))


def test_population_noise_parameters_are_checked():
    net = Network("n")
    for kw, msg in ((dict(noise_exp=24), "noise_exp"), (dict(noise_exp=1.5), "noise_exp"),
                    (dict(noise_exp=3, noise_offset=200), "noise_offset"), (dict(noise_target="w", noise_exp=1),
                                                                            "noise_target"),
                    (dict(noise_offset=2), "needs noise_exp")):
        with pytest.raises(ParameterError, match=msg):
            net.add_population("p", 3, **kw)
    assert not net.populations


def test_float_reference_follows_the_same_noise():
    """Target u, u keeps nothing: the float u is the emulator's u divided by the scale, step for step."""
    net = Network("n")
    net.add_population("a", 20, decay_u_reg=4095, tau_v=8, vth=50.0, noise_exp=9, noise_offset=1,
                       noise_target="u", v_scale=100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulator(net, probes=[("a", "u"), ("a", "v")], seed=4)
        sim.run(40)
        ref = FloatSimulator(net, probes=["u"], seed=4)
        ref.run(40)
    np.testing.assert_allclose(ref.data["u"], sim.raw["a", "u"] / 100.0, rtol=0, atol=1e-12)
    assert np.abs(ref.data["u"]).max() > 0
    other = FloatSimulator(net, probes=["u"], seed=5)
    other.run(40)
    assert not np.allclose(other.data["u"], ref.data["u"])


def test_saved_v4_file_with_noise_and_reward_loads_and_runs_the_same():
    from pathlib import Path

    from loihi_emu import load
    from loihi_emu.image import store

    data = Path(__file__).parent / "data"
    assert store.format_of(data / "board-v4.npz") == "loihi-image/4" in store.FORMATS
    want = dict(np.load(data / "board-v4-expected.npz"))
    image = load(data / "board-v4.npz")
    assert sorted({int(m) for c in image.cores for m in c.compartments.noise_mode}) == [0, 1, 2]
    for backend in ("numba", "numpy"):
        emu = Emulator(image, seed=11, probes=("spikes", "v", "w"), backend=backend)
        emu.run(want["inputs"].shape[0], want["inputs"])
        for q in ("spikes", "v", "w"):
            np.testing.assert_array_equal(emu.data[q], want[q], err_msg=q)
    # its learning profile reads r1 from reward axon 3: without those spikes the weights differ
    assert {c.learning.reward_settings(0) for c in image.cores if c.learning.n} == {(3, 50, 5)}
    quiet = want["inputs"].copy()
    quiet[:, 3] = 0
    emu = Emulator(image, seed=11, probes=("w",))
    emu.run(quiet.shape[0], quiet)
    assert not np.array_equal(emu.data["w"], want["w"])
    # the v3 file of the same board has no noise fields: they default to no noise
    v3 = load(data / "board-v3.npz")
    assert not any(c.compartments.noisy.any() for c in v3.cores)
    assert not np.array_equal(dict(np.load(data / "board-expected.npz"))["v"], want["v"])


def test_a_noisy_compartment_is_active_every_step_in_the_energy_counts():
    from loihi_emu.runtime.energy_counts import structure

    st = structure(_one_core(2, exp=3, n=4))
    assert st.bias_on.all()
    assert not structure(_one_core(0, n=4)).bias_on.any()
