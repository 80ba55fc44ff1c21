"""STDP finds a hidden spike pattern: a register-level learning example.

    python examples/stdp_pattern.py [--steps 6000] [--seed 0] [--plot out.png]

200 input axons fire at random (Poisson-like noise, 2 % per step). Half of
them, the *pattern* inputs, also replay one fixed 20-step spike pattern at
random times. A small output population receives every input through a
plastic excitatory synapse under pair STDP

    dw = 2^-2*x1*y0 - 2^-2*y1*x0 - 2*y0    (potentiate causal pairs, depress anti-causal
                                             ones, and every input a little at each output spike)

so the weights of inputs that take part in the pattern (and so tend to fire
just before an output spike) hold up while the others shrink; the response
to the pattern against the noise is printed before learning (the same
network with static synapses) and over the last steps of the plastic run. The image is built at register
level with :func:`loihi_emu.build_image` and a
:class:`~loihi_emu.image.profiles.LearningProfile`.
"""

from __future__ import annotations

import argparse

import numba
import numpy as np

from loihi_emu import LOIHI1, Emulator, build_image
from loihi_emu.image.profiles import LearningProfile

N_IN, N_PATTERN, N_OUT, PATTERN_LEN = 200, 100, 4, 20
RULE = "dw = 2^-2*x1*y0 - 2^-2*y1*x0 - 2*y0"


def make_inputs(steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """[steps, N_IN] spikes and a bool [steps] mask of the steps inside a pattern replay."""
    spikes = (rng.random((steps, N_IN)) < 0.02).astype(np.uint8)
    pattern = np.zeros((PATTERN_LEN, N_PATTERN), np.uint8)
    pattern[rng.integers(0, PATTERN_LEN, N_PATTERN), np.arange(N_PATTERN)] = 1  # one spike per pattern input
    in_pattern = np.zeros(steps, bool)
    t = int(rng.integers(20, 60))
    while t + PATTERN_LEN < steps:
        spikes[t : t + PATTERN_LEN, :N_PATTERN] = pattern
        in_pattern[t : t + PATTERN_LEN] = True
        t += PATTERN_LEN + int(rng.integers(40, 120))
    return spikes, in_pattern


def make_image(rng: np.random.Generator, plastic: bool = True):
    s = LOIHI1
    regs = dict(decay_u_reg=1023, decay_v=256, vth_mant=14000, bias_mant=0, bias_exp=0, refract=10,
                vmin=s.v_min_limit, vmax=s.v_max_limit)
    pre = np.tile(np.arange(N_IN), N_OUT)
    post = np.repeat(np.arange(N_OUT), N_IN)
    prof = LearningProfile.from_rule(RULE, traces={"x1": (64, 10), "y1": (64, 10)})
    return build_image(regs, np.zeros(N_OUT, int), n_in=N_IN, syn_pre=pre, syn_post=post,
                       syn_wmant=rng.integers(40, 80, pre.size), syn_wexp=0, syn_sign_mode=2, syn_weight_bits=8,
                       syn_learning=0 if plastic else -1, learning_profiles=[prof])


def response(spikes: np.ndarray, in_pattern: np.ndarray) -> tuple[float, float]:
    """Output spikes per step inside pattern replays and outside them."""
    per_step = spikes.sum(axis=1)
    return float(per_step[in_pattern].mean()), float(per_step[~in_pattern].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", metavar="OUT.png", help="plot the weight evolution (needs matplotlib)")
    a = ap.parse_args()
    # the learning kernels are serial; one thread also keeps numba's parallel workers from spinning between them
    numba.set_num_threads(1)
    rng = np.random.default_rng(a.seed)
    inputs, in_pattern = make_inputs(a.steps, rng)
    image = make_image(np.random.default_rng(a.seed + 1))
    emu = Emulator(image, probes=["spikes", "wmant"], seed=a.seed, n_threads=1)
    emu.run(a.steps, inputs)
    syn = emu.plastic_synapses()
    w = emu.data["wmant"].astype(np.float64)  # [steps, plastic synapses], stable order
    is_pat = syn["source"] < N_PATTERN
    print(f"{N_IN} inputs ({N_PATTERN} in the pattern), {N_OUT} outputs, {a.steps} steps, rule: {RULE}")
    print(" step   mean w (pattern inputs)   mean w (noise inputs)")
    for t in np.linspace(0, a.steps - 1, 7).astype(int):
        print(f"{t:5d}   {w[t, is_pat].mean():22.1f}   {w[t, ~is_pat].mean():21.1f}")
    window = min(1000, a.steps // 4)
    static = Emulator(make_image(np.random.default_rng(a.seed + 1), plastic=False), probes=["spikes"], n_threads=1)
    static.run(a.steps, inputs)
    before = response(static.data["spikes"], in_pattern)
    after = response(emu.data["spikes"][-window:], in_pattern[-window:])
    print(f"output spikes per step before learning (static weights): {before[0]:.3f} in pattern, "
          f"{before[1]:.3f} in noise")
    print(f"output spikes per step, last {window} steps of learning:  {after[0]:.3f} in pattern, "
          f"{after[1]:.3f} in noise")
    if a.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
        ax1.plot(w[:, is_pat].mean(axis=1), label="pattern inputs")
        ax1.plot(w[:, ~is_pat].mean(axis=1), label="noise inputs")
        ax1.set_ylabel("mean weight mantissa")
        ax1.legend()
        ev = emu.data["spike_events"]
        ax2.scatter(ev[:, 0], ev[:, 1], s=2, c=in_pattern[ev[:, 0]], cmap="coolwarm")
        ax2.set_xlabel("step")
        ax2.set_ylabel("output")
        fig.savefig(a.plot, dpi=120)
        print(f"wrote {a.plot}")


if __name__ == "__main__":
    main()
