"""A stochastic winner-take-all: compartment noise breaks the tie between identical neurons.

    python examples/noisy_wta.py [--steps 2000] [--seed 0] [--plot out.png]

Four identical neurons get the same bias and inhibit each other. Without
noise they charge in lockstep and fire together every time (the tie is
never broken). With noise on their voltage input (``noise_exp=9``: about
+-0.5 model units a step, docs/noise.md) one of them reaches threshold
first, its spike holds the others down, and which one wins changes from
one episode to the next: every neuron wins its share of the episodes, and
the same seed gives the same winners on any placement.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from compiler import Network
from compiler.simulator import Simulator

N = 4


def make_network(noise: bool) -> Network:
    net = Network("noisy_wta")
    extra = dict(noise_exp=9, noise_target="v") if noise else {}
    net.add_population("wta", N, tau_u=2, tau_v=16, vth=1.0, bias=0.08, v_scale=1024.0, **extra)
    w = np.full((N, N), -1.5)
    np.fill_diagonal(w, 0.0)
    net.connect("wta", "wta", w)
    return net


def run(noise: bool, steps: int, seed: int) -> np.ndarray:
    """int64 [k, 2] (step, neuron) of every spike."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = Simulator(make_network(noise), probes=[("wta", "spikes")], seed=seed)
        sim.run(steps)
    return sim.spikes("wta")


def summary(spikes: np.ndarray) -> dict[str, float]:
    """Spikes per neuron, and the fraction of spiking steps where exactly one neuron fired."""
    per_step = np.bincount(spikes[:, 0]) if spikes.size else np.zeros(0, np.int64)
    active = per_step[per_step > 0]
    return {"counts": np.bincount(spikes[:, 1], minlength=N).tolist(),
            "single_winner": float((active == 1).mean()) if active.size else 0.0}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default=None, help="write a raster plot here (needs matplotlib)")
    args = ap.parse_args(argv)
    out = {}
    for noise in (False, True):
        spikes = run(noise, args.steps, args.seed)
        out["noisy" if noise else "quiet"] = s = summary(spikes)
        print(f"{'with' if noise else 'without'} noise: spikes per neuron {s['counts']}, "
              f"one winner in {100 * s['single_winner']:.0f} % of the steps with a spike")
        if noise and args.plot:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(8, 2.5))
            ax.scatter(spikes[:, 0], spikes[:, 1], s=2)
            ax.set(xlabel="step", ylabel="neuron", yticks=range(N), title="noisy winner-take-all")
            fig.tight_layout()
            fig.savefig(args.plot)
    return out


if __name__ == "__main__":
    main()
