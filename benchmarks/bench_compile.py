"""Compile time and peak memory of a bench-A-sized network.

    PYTHONPATH=. python benchmarks/bench_compile.py [--n 100000] [--k 10,100] [--placement sequential]

For each fan-in k: ``n`` CUBA compartments in two populations (80 %
excitatory, 20 % inhibitory, bias-driven as in bench-A), random fixed fan-in
``k`` (each compartment draws k sources uniformly from all n; Dale's law: the
source's population sets the sign), so ``n * k`` synapses in four sparse
projections. Each size runs in a fresh subprocess so that ``ru_maxrss`` (the
process's peak resident memory) belongs to that size alone. Prints the time
to build the Network, the compile time (quantize, split, place, lower,
validate), the process's peak memory (``peak MB``), the resident size of
the built network before compiling (``net MB``) and the peak above it while
compiling (``compile MB``, and per synapse; ``ru_maxrss`` is restarted
before ``compile`` through ``/proc/self/clear_refs``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings


def make_network(n: int, k: int, seed: int = 0):
    import numpy as np

    from compiler import Network

    rng = np.random.default_rng(seed)
    n_exc = int(n * 0.8)
    sizes = {"exc": n_exc, "inh": n - n_exc}
    net = Network(f"bench-A n={n} k={k}")
    for name, size in sizes.items():
        net.add_population(name, size, tau_u=10, tau_v=20, vth=200.0, bias=rng.uniform(4, 11, size), refractory=2)
    post_all = np.repeat(np.arange(n, dtype=np.int64), k)
    pre_all = rng.integers(0, n, n * k)
    w_all = rng.integers(1, 40, n * k).astype(np.float64) / 64.0
    del rng
    for pre_name, lo, hi, sign in (("exc", 0, n_exc, 1.0), ("inh", n_exc, n, -5.0)):
        from_pre = (pre_all >= lo) & (pre_all < hi)
        for post_name, plo, phi in (("exc", 0, n_exc), ("inh", n_exc, n)):
            sel = from_pre & (post_all >= plo) & (post_all < phi)
            net.connect(pre_name, post_name,
                        sparse=(pre_all[sel] - lo, post_all[sel] - plo, sign * w_all[sel]))
    return net


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak() -> bool:
    """Restart ru_maxrss from the current resident size (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def run_one(n: int, k: int, placement: str) -> dict:
    from compiler import compile

    t0 = time.perf_counter()
    net = make_network(n, k)
    t1 = time.perf_counter()
    build_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    before = rss_mb()
    exact = reset_peak()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image, report = compile(net, placement=placement)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n": n, "k": k, "synapses": net.n_synapses, "build_s": t1 - t0, "compile_s": t2 - t1,
        "cores": report.cores, "chips": report.chips, "timings": report.timings,
        "peak_rss_mb": max(peak, build_peak), "network_mb": before,
        "compile_extra_mb": peak - before if exact else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", default="10,100", help="comma-separated fan-ins (10 -> 1 M, 100 -> 10 M synapses)")
    ap.add_argument("--placement", default="sequential")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.n, int(a.k), a.placement)))
        return
    print(f"{'synapses':>10} {'build s':>8} {'compile s':>10} {'cores':>6} {'chips':>6} {'peak MB':>8} "
          f"{'net MB':>7} {'compile MB':>10} {'B/syn':>6}  stages (s)")
    for k in (int(x) for x in a.k.split(",")):
        out = subprocess.run([sys.executable, __file__, "--n", str(a.n), "--k", str(k), "--placement", a.placement,
                              "--child"], check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        stages = " ".join(f"{k}={v:.1f}" for k, v in r["timings"].items())
        print(f"{r['synapses']:>10} {r['build_s']:>8.2f} {r['compile_s']:>10.2f} {r['cores']:>6} {r['chips']:>6} "
              f"{r['peak_rss_mb']:>8.0f} {r['network_mb']:>7.0f} {r['compile_extra_mb']:>10.0f} "
              f"{r['compile_extra_mb'] * 2**20 / r['synapses']:>6.1f}  {stages}")


if __name__ == "__main__":
    main()
