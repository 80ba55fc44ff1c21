"""bench-noise: what compartment noise costs the update stage, against the same network without it.

    python benchmarks/bench_noise.py [--n 100000] [--k 10] [--steps 300] [--threads 1]

A random network of ``--n`` compartments, ``--k`` static synapses each from
random inputs (2 % of the input axons spike per step), run three ways in one
process: without noise fields, with the noise fields all 0 (off), and with
noise on every compartment (into u2, exponent 10). Prints ms per step of each
and the ratios to the first. Only ``run`` is timed; numba compiles on a small
image first.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from loihi_emu import LOIHI1, Emulator, build_image


def make(n: int, k: int, noise: str | None, seed: int = 0):
    rng = np.random.default_rng(seed)
    s = LOIHI1
    regs = dict(decay_u_reg=np.full(n, 400), decay_v=np.full(n, 200), vth_mant=np.full(n, 200),
                bias_mant=np.zeros(n, int), bias_exp=np.zeros(n, int), refract=np.full(n, 2),
                vmin=np.full(n, s.v_min_limit), vmax=np.full(n, s.v_max_limit))
    if noise is not None:
        regs.update(noise_mode=np.full(n, 2 if noise == "on" else 0), noise_exp=np.full(n, 10), noise_offset=0)
    m = n * k
    syn = dict(syn_pre=rng.integers(0, n, m), syn_post=np.repeat(np.arange(n), k), syn_wmant=rng.integers(0, 200, m))
    return build_image(regs, np.arange(n) // s.compartments_per_core, n_in=n, **syn)


def timed(image, steps: int, threads: int, inputs: np.ndarray) -> float:
    emu = Emulator(image, probes=(), n_threads=threads)
    t0 = time.perf_counter()
    emu.run(steps, inputs)
    return (time.perf_counter() - t0) / steps * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    numba.set_num_threads(max(1, min(args.threads, numba.config.NUMBA_NUM_THREADS)))
    inputs = (np.random.default_rng(1).random((args.steps, args.n)) < 0.02).astype(np.uint8)
    for mode in (None, "off", "on"):  # compile
        timed(make(500, 2, mode), 3, args.threads, inputs[:3, :500])
    base = None
    for mode, label in ((None, "no noise fields"), ("off", "noise fields all 0"), ("on", "noise on every compartment")):
        ms = timed(make(args.n, args.k, mode), args.steps, args.threads, inputs)
        base = base or ms
        print(f"{label:>28}: {ms:7.3f} ms/step  ({ms / base:.2f}x)")


if __name__ == "__main__":
    main()
