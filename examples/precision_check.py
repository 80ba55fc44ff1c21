"""What does fixed point cost this network? A float reference against the emulator.

    python examples/precision_check.py [--steps 1000] [--plot DIR] [--no-sweep]

An excitatory-inhibitory network driven by Poisson-like input (100 axons,
400 excitatory and 100 inhibitory compartments, time constants that are not
4096/integer) is compiled, run bit-exactly on the emulator and in float64
(:class:`compiler.FloatSimulator`), and compared (:func:`compiler.compare`):
per population the spike-count and rate errors, first-spike latencies, van
Rossum and Victor-Purpura distances, identical trains and voltage RMSE; the
compiler's quantization error per parameter; wrap-arounds. Then the weight
bits of every projection are swept (:func:`compiler.sweep`). docs/precision.md
explains how to read the tables.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from compiler import Network, RateEncoder, compare, sweep


def make_network(seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    net = Network("ei-precision")
    net.add_input("in", encoder=RateEncoder(rng.uniform(0.02, 0.08, 100), seed=seed))
    net.add_population("exc", 400, tau_u=3.3, tau_v=17.0, vth=1.0, bias=0.01, refractory=2)
    net.add_population("inh", 100, tau_u=2.0, tau_v=9.0, vth=1.0, refractory=1)
    sparse = lambda shape, p, lo, hi: (rng.random(shape) < p) * rng.uniform(lo, hi, shape)  # noqa: E731
    net.connect("in", "exc", weights=sparse((100, 400), 0.2, 0.05, 0.35), delay=rng.integers(0, 3, (100, 400)))
    net.connect("exc", "exc", weights=sparse((400, 400), 0.02, 0.01, 0.2), delay=1)
    net.connect("exc", "inh", weights=sparse((400, 100), 0.1, 0.05, 0.3))
    net.connect("inh", "exc", weights=-sparse((100, 400), 0.1, 0.05, 0.4))
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", metavar="DIR", help="write raster, voltage and sweep figures into DIR (matplotlib)")
    ap.add_argument("--no-sweep", action="store_true", help="skip the weight-bit sweep")
    a = ap.parse_args()
    t0 = time.perf_counter()
    net = make_network(a.seed)
    report = compare(net, a.steps, seed=a.seed)
    print(report)
    sw = None
    if not a.no_sweep:
        sw = sweep(net, weight_bits=range(2, 10), steps=a.steps, seed=a.seed)
        print()
        print(sw)
    if a.plot:
        from compiler.precision.plots import save_report_plots

        for path in save_report_plots(report, a.plot, sw):
            print(f"wrote {path}")
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
