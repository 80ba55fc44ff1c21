"""Reward-modulated STDP learns which of two input patterns should drive an output.

    python examples/reward_stdp.py [--episodes 60] [--seed 0] [--plot weights.png]

Twenty inputs feed one output neuron through plastic excitatory synapses of
equal weight. Each episode (30 steps) presents pattern A (inputs 0..9 fire at
random, 30 % a step, for 10 steps) or pattern B (inputs 10..19), chosen at
random; after an A episode a reward spike arrives on the reward input. The
rule (docs/reward.md)

    dt = 2^-2*x1*y0 - 2^-2*y1*x0 - 2^-3*u0*t     (STDP into the synapse's tag: an eligibility that fades)
    dw = u0*r0*t                                  (on a reward spike, the tag into the weight)

potentiates the synapses whose inputs helped the output fire shortly before
a reward. B's synapses get no reward and keep their weights, so after
training pattern A drives the output much harder than pattern B. The
script prints the output's spikes per presentation before and after, and
plots the mean weight of A's and B's synapses over time.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from compiler import Network
from compiler.simulator import Simulator

N_IN, EPISODE, SHOW, REWARD_AT = 20, 30, 10, 14
RULE = "dt = 2^-2*x1*y0 - 2^-2*y1*x0 - 2^-3*u0*t; dw = u0*r0*t"


def make_inputs(episodes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input spikes [steps, 20], reward spikes [steps, 1] and the pattern of each episode (0 = A, 1 = B)."""
    which = rng.integers(0, 2, episodes)
    spikes = np.zeros((episodes * EPISODE, N_IN), bool)
    reward = np.zeros((episodes * EPISODE, 1), bool)
    for e, p in enumerate(which):
        t0 = e * EPISODE
        cols = slice(10 * p, 10 * p + 10)
        spikes[t0 : t0 + SHOW, cols] = rng.random((SHOW, 10)) < 0.3
        if p == 0:
            reward[t0 + REWARD_AT] = True
    return spikes, reward, which


def make_network(spikes: np.ndarray, reward: np.ndarray) -> Network:
    net = Network("reward_stdp")
    net.add_input("in", N_IN, spikes=spikes)
    net.add_input("reward", 1, spikes=reward)
    net.add_population("out", 1, tau_u=2, tau_v=4, vth=1.0, refractory=2)
    net.connect("in", "out", np.full((N_IN, 1), 0.1), learning_rule=RULE, sign_mode="excitatory", w_max=1.0,
                traces={"x1": (40, 6), "y1": (40, 6)}, reward="reward")
    return net


def responses(out_spikes: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Output spikes in each episode's presentation window, [episodes]."""
    per = out_spikes.reshape(which.size, EPISODE)[:, : SHOW + 3]
    return per.sum(axis=1)


def run(episodes: int = 60, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    spikes, reward, which = make_inputs(episodes, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulator(make_network(spikes, reward), probes=[("out", "spikes"), ("in->out", "w")], seed=seed)
        sim.run(episodes * EPISODE)
    w = sim.data["in->out", "w"]  # [steps, 20] model units
    resp = responses(sim.data["out", "spikes"][:, 0], which)
    k = max(episodes // 8, 2)
    first, last = which[:k], which[-k:]
    return {
        "weights": w, "which": which,
        "w_A": w[:, :10].mean(axis=1), "w_B": w[:, 10:].mean(axis=1),
        "before": (resp[:k][first == 0].mean(), resp[:k][first == 1].mean()),
        "after": (resp[-k:][last == 0].mean(), resp[-k:][last == 1].mean()),
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default=None, help="write the weights-over-time plot here (needs matplotlib)")
    args = ap.parse_args(argv)
    out = run(args.episodes, args.seed)
    for when in ("before", "after"):
        a, b = out[when]
        print(f"{when:>6} learning: output spikes per presentation  A {a:.2f}  B {b:.2f}")
    print(f"mean weight  A {out['w_A'][0]:.3f} -> {out['w_A'][-1]:.3f}   B {out['w_B'][0]:.3f} -> {out['w_B'][-1]:.3f}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 3))
        ax.plot(out["w_A"], label="pattern A (rewarded)")
        ax.plot(out["w_B"], label="pattern B")
        ax.set(xlabel="step", ylabel="mean weight (model units)", title="reward-modulated STDP")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot)
    return out


if __name__ == "__main__":
    main()
