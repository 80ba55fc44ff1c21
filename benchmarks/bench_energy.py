"""bench-energy: what the energy estimate costs next to the run it estimates.

    python benchmarks/bench_energy.py [--n 20000] [--k 50] [--steps 500] [--rate 0.02]

A random network of ``--n`` compartments on 1024-compartment cores, ``--k``
synapses into each from random sources (inputs are a tenth as many as
compartments, spiking with probability ``--rate``), bias-free, u without memory.
Prints the run time with the probes the estimate needs, the time of
``estimate_energy`` (counts + conversion) and their ratio, plus the estimate.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from loihi_emu import Emulator, build_image
from loihi_emu.energy import energy_probes, estimate_energy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--rate", type=float, default=0.02)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    n_in = max(a.n // 10, 1)
    big = (1 << 23) - 1
    regs = dict(decay_u_reg=4095, decay_v=410, vth_mant=160, bias_mant=0, bias_exp=0, refract=2, vmin=-big, vmax=big)
    m = a.n * a.k
    post = np.repeat(np.arange(a.n), a.k)
    pre = rng.integers(0, n_in + a.n, m)
    image = build_image(regs, np.arange(a.n) // 1024, n_in=n_in, syn_pre=pre, syn_post=post,
                        syn_wmant=rng.integers(-20, 60, m))
    inputs = (rng.random((a.steps, n_in)) < a.rate).astype(np.uint8)
    Emulator(build_image(regs, [0], n_in=1, syn_pre=[0], syn_post=[0], syn_wmant=[1])).run(2)  # compile numba
    emu = Emulator(image, probes=energy_probes())
    t0 = time.perf_counter()
    emu.run(a.steps, inputs)
    t_run = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = estimate_energy(image, emu.data, "davies2018", inputs=inputs)
    t_est = time.perf_counter() - t0
    print(f"{a.n} compartments, {m} synapses, {len(image.cores)} cores, {a.steps} steps, "
          f"{int(emu.spike_counts.sum())} spikes, {emu.synaptic_events} synaptic events")
    print(f"run {t_run:.2f} s, estimate {t_est:.2f} s, estimate/run {t_est / t_run:.2f}")
    print(rep.summary())


if __name__ == "__main__":
    main()
