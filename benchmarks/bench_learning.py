"""bench-learning: pairwise STDP at scale against the hand-written C loop, back to back.

    python benchmarks/bench_learning.py [--sizes 1000x100,10000x100] [--post-rates 0.05,0.5]
        [--epochs 1,4] [--rounding det,stochastic] [--threads 1,2] [--steps 300] [--repeat 2]
        [--shared PATH]

Network n x k: n compartments, each with k plastic synapses from random
input axons (as many as compartments) that spike with probability
``--rate`` (0.02) per step; rule ``dw = 2^-2*x1*y0 - 2^-2*y1*x0``. The
compartments' bias is calibrated (bisection on a 1 000-compartment copy) so
that about ``post-rate`` of them spike per step. 1000x100 is 100k plastic
synapses, 10000x100 is 1M.

For every size the C loop (``limit.c`` of the bench folder, ``--shared``, on
bench-A with the same n and k) runs first; then every configuration (post
rate, epoch, rounding, threads), ``--repeat`` alternating rounds, best kept.
Prints per configuration: plastic synapse-steps/s (plastic synapses x steps
/ run time), ns per evaluated synapse (run time / synapses the rule stage
evaluated, ``LearningArrays.n_eval``) and the ratio of plastic
synapse-steps/s to the C loop's synaptic events/s. Only ``run`` is timed;
numba compiles on a small image first (``cache=True`` keeps it on disk).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_a  # noqa: E402  (the bench folder, bench-A and limit.c)

from loihi_emu import LOIHI1, Emulator, build_image  # noqa: E402
from loihi_emu.image.profiles import LearningProfile  # noqa: E402

RULE = "dw = 2^-2*x1*y0 - 2^-2*y1*x0"
TRACES = {"x1": (32, 20), "y1": (32, 20)}


def make(n: int, k: int, steps: int, rate: float, bias: int, epoch: int = 1, rounding: str = "det",
         plastic: bool = True, seed: int = 0):
    """(image, inputs uint8 [steps, n]): n compartments x k plastic synapses from n random inputs."""
    rng = np.random.default_rng(seed)
    s = LOIHI1
    regs = dict(decay_u_reg=1023, decay_v=512, vth_mant=1400, bias_mant=bias, bias_exp=6, refract=1,
                vmin=s.v_min_limit, vmax=s.v_max_limit)
    m = n * k
    pre = rng.integers(0, n, m)
    post = np.repeat(np.arange(n), k)
    core_of = np.arange(n) // 256
    prof = LearningProfile.from_rule(RULE, traces=TRACES, epoch=epoch, rounding=rounding)
    image = build_image(regs, core_of, n_in=n, syn_pre=pre, syn_post=post, syn_wmant=rng.integers(4, 40, m),
                        syn_wexp=0, syn_sign_mode=2, syn_weight_bits=8,
                        syn_learning=0 if plastic else -1, learning_profiles=[prof])
    inputs = (rng.random((steps, n)) < rate).astype(np.uint8)
    return image, inputs


def post_rate(bias: int, rate: float) -> float:
    image, inputs = make(1000, 100, 150, rate, bias)
    emu = Emulator(image, probes=[], n_threads=1)
    emu.run(150, inputs)
    return float(emu.spike_counts.sum()) / (1000 * 150)


def calibrate(target: float, rate: float) -> int:
    """The bias mantissa (0..4095) whose post rate is nearest ``target`` (bisection)."""
    lo, hi = 0, 4095
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if post_rate(mid, rate) < target:
            lo = mid
        else:
            hi = mid
    return min((lo, hi), key=lambda b: abs(post_rate(b, rate) - target))


def timed_run(image, inputs, threads: int) -> tuple[float, Emulator]:
    numba.set_num_threads(threads)
    emu = Emulator(image, probes=[], n_threads=threads)
    t0 = time.perf_counter()
    emu.run(inputs.shape[0], inputs)
    return time.perf_counter() - t0, emu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000x100,10000x100", help="n x k, comma-separated")
    ap.add_argument("--post-rates", default="0.05,0.5")
    ap.add_argument("--epochs", default="1,4")
    ap.add_argument("--rounding", default="det,stochastic")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rate", type=float, default=0.02, help="spike probability per step of each input axon")
    ap.add_argument("--repeat", type=int, default=2, help="alternating rounds; the best is reported")
    ap.add_argument("--shared", type=Path, default=bench_a.SHARED, help="folder of make_bench_net.py and limit.c")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "loihi_bench"))
    a = ap.parse_args()
    bench_a.SHARED = bench_a.check_shared(a.shared.resolve())
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    threads = [int(x) for x in a.threads.split(",")]
    warm, warm_in = make(50, 5, 20, 0.2, 0)
    for th in threads:
        timed_run(warm, warm_in, th)
    biases = {r: calibrate(r, a.rate) for r in (float(x) for x in a.post_rates.split(","))}
    print("bias mantissa per post rate:", {r: b for r, b in biases.items()})
    for size in a.sizes.split(","):
        n, k = (int(x) for x in size.split("x"))
        c_rate = bench_a.run_limit(bench_a.make_bench(n, k, a.steps, work), a.steps, work)
        configs = [(r, e, rnd) for r in biases for e in (int(x) for x in a.epochs.split(","))
                   for rnd in a.rounding.split(",")]
        for r, epoch, rounding in configs:
            image, inputs = make(n, k, a.steps, a.rate, biases[r], epoch, rounding)
            best: dict[int, tuple] = {}
            for _ in range(a.repeat):
                for th in threads:
                    dt, emu = timed_run(image, inputs, th)
                    if th not in best or dt < best[th][0]:
                        best[th] = (dt, emu)
            for th in threads:
                dt, emu = best[th]
                n_plastic = emu.learning.flat.n_plastic
                n_eval = int(getattr(emu.learning.arrays, "n_eval", [0])[0])  # absent before issue 16
                sps = n_plastic * a.steps / dt / 1e6
                ratio = f"{sps / c_rate:.2f}x limit.c" if c_rate else "no C baseline"
                got = emu.spike_counts.sum() / (n * a.steps)
                print(f"  {n}x{k} post {got:.3f}/step epoch {epoch} {rounding:10s} {th} thread(s): "
                      f"{sps:8.1f} M plastic synapse-steps/s  {dt * 1e9 / max(n_eval, 1):6.1f} ns/evaluated synapse "
                      f"({n_eval / a.steps:,.0f} per step)  {ratio}")


if __name__ == "__main__":
    main()
