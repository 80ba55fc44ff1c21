"""bench-learning: pairwise STDP on 1 000 compartments x 100 plastic synapses, 1 000 steps.

    python benchmarks/bench_learning.py [--n 1000] [--k 100] [--steps 1000] [--rate 0.02] [--threads 1]

Input axons (as many as compartments) spike at random with probability
``--rate`` per step; each compartment receives ``--k`` plastic synapses from
random inputs, with the rule ``dw = 2^-2*x1*y0 - 2^-2*y1*x0`` (epoch 1).
Prints plastic synapse-steps per second (plastic synapses x steps / run
time) and the run time of the same network with plasticity off (the same
synapses in a static format). Only ``run`` is timed; numba compiles on a
small image first (``cache=True`` keeps it on disk).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from loihi_emu import LOIHI1, Emulator, build_image
from loihi_emu.image.profiles import LearningProfile

RULE = "dw = 2^-2*x1*y0 - 2^-2*y1*x0"
TRACES = {"x1": (32, 20), "y1": (32, 20)}


def make(n: int, k: int, steps: int, rate: float, plastic: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    s = LOIHI1
    regs = dict(decay_u_reg=1023, decay_v=512, vth_mant=1400, bias_mant=0, bias_exp=0, refract=2,
                vmin=s.v_min_limit, vmax=s.v_max_limit)
    m = n * k
    pre = rng.integers(0, n, m)
    post = np.repeat(np.arange(n), k)
    core_of = np.arange(n) // 256
    prof = LearningProfile.from_rule(RULE, traces=TRACES)
    image = build_image(regs, core_of, n_in=n, syn_pre=pre, syn_post=post, syn_wmant=rng.integers(4, 40, m),
                        syn_wexp=0, syn_sign_mode=2, syn_weight_bits=8,
                        syn_learning=0 if plastic else -1, learning_profiles=[prof])
    inputs = (rng.random((steps, n)) < rate).astype(np.uint8)
    return image, inputs


def timed_run(image, inputs, threads: int) -> tuple[float, Emulator]:
    emu = Emulator(image, probes=[], n_threads=threads)
    t0 = time.perf_counter()
    emu.run(inputs.shape[0], inputs)
    return time.perf_counter() - t0, emu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=0.02)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    numba.set_num_threads(a.threads)
    warm, warm_in = make(50, 5, 20, 0.2, True)
    timed_run(warm, warm_in, a.threads)
    timed_run(make(50, 5, 20, 0.2, False)[0], warm_in, a.threads)

    image, inputs = make(a.n, a.k, a.steps, a.rate, True)
    static, _ = make(a.n, a.k, a.steps, a.rate, False)
    t_on, emu = timed_run(image, inputs, a.threads)
    t_off, emu_off = timed_run(static, inputs, a.threads)
    n_plastic = emu.learning.flat.n_plastic
    changed = int((emu.learning.w != emu.learning.flat.w0).sum())
    print(f"bench-learning n={a.n} k={a.k} steps={a.steps} rate={a.rate} threads={a.threads}: "
          f"{n_plastic:,} plastic synapses, {int(emu.spike_counts.sum()):,} compartment spikes "
          f"({int(emu_off.spike_counts.sum()):,} with learning off), {changed:,} weights changed")
    print(f"  learning on : {t_on:7.3f} s  {n_plastic * a.steps / t_on / 1e6:8.1f} M plastic synapse-steps/s")
    print(f"  learning off: {t_off:7.3f} s  (same synapses, static format)  on/off = {t_on / t_off:.2f}x")


if __name__ == "__main__":
    main()
