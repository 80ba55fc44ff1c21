"""Time and peak memory of loading a bench-A board image into a running Emulator.

    PYTHONPATH=. python benchmarks/bench_image.py [--n 100000] [--k 100] [--formats 3] [--cache /tmp]

Compiles the bench-A-like network of ``benchmarks/bench_compile.py`` (n
compartments, fan-in k, so n * k synapses) once, saves it in each asked
format under ``--cache`` (reused when present), then for each format, in a
fresh subprocess: imports everything and warms the numba kernels on a tiny
image, resets the process's peak resident memory (``/proc/self/clear_refs``,
so ``ru_maxrss`` restarts from the current size), then times
``Emulator(load(path))`` plus one step. Prints the load time, the peak
resident memory above the pre-load size in MB and in bytes per synapse, and
the bytes per synapse the running emulator's arrays hold. ``cpu s`` is the
process's CPU time for the load (all threads), a steadier figure than the
wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


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


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cache_path(cache: str, n: int, k: int, fmt: int) -> str:
    return os.path.join(cache, f"bench-image-n{n}-k{k}.v{fmt}.npz")


def make(n: int, k: int, formats: list[int], cache: str) -> None:
    import warnings

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_compile import make_network

    from compiler import compile
    from loihi_emu.image.file import save as save_v1
    from loihi_emu.image.store import save as save_v3

    todo = [f for f in formats if not os.path.exists(cache_path(cache, n, k, f))]
    if not todo:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image, _ = compile(make_network(n, k))
    for f in todo:
        (save_v1 if f == 1 else save_v3)(image, cache_path(cache, n, k, f))


def measure(path: str) -> dict:
    import numpy as np

    from loihi_emu import Emulator, build_image, load

    tiny = build_image({f: 1 for f in ("decay_u_reg", "decay_v", "vth_mant", "refract")} |
                       {"bias_mant": 0, "bias_exp": 0, "vmin": -(1 << 23), "vmax": (1 << 23) - 1},
                       np.zeros(2, int), n_in=1, syn_pre=[0, 1], syn_post=[1, 0], syn_wmant=[1, 1])
    Emulator(tiny).run(2, np.ones((2, 1), np.uint8))
    before = rss_mb()
    exact = reset_peak()
    t0, c0 = time.perf_counter(), time.process_time()
    emu = Emulator(load(path))
    t1, c1 = time.perf_counter(), time.process_time()
    emu.run(1)
    t2 = time.perf_counter()
    syn = int(emu.net.tgt_delay.size)
    return {"load_s": t1 - t0, "load_cpu_s": c1 - c0, "step_s": t2 - t1, "synapses": syn, "before_mb": before,
            "peak_mb": peak_mb(), "exact_peak": exact, "net_bytes": emu.net.nbytes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--formats", default="3", help="comma-separated format versions to time (1, 3)")
    ap.add_argument("--cache", default="/tmp")
    ap.add_argument("--child", choices=("make", "measure"), help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    a = ap.parse_args()
    formats = [int(f) for f in a.formats.split(",")]
    if a.child == "make":
        make(a.n, a.k, formats, a.cache)
        return
    if a.child == "measure":
        print(json.dumps(measure(a.path)))
        return
    env = dict(os.environ)
    subprocess.run([sys.executable, __file__, "--child", "make", "--n", str(a.n), "--k", str(a.k),
                    "--formats", a.formats, "--cache", a.cache], check=True, env=env)
    print(f"{'format':>6} {'synapses':>10} {'load s':>8} {'cpu s':>6} {'step s':>7} {'peak MB':>8} {'B/syn':>6} {'run B/syn':>9}")
    for f in formats:
        out = subprocess.run([sys.executable, __file__, "--child", "measure", "--path",
                              cache_path(a.cache, a.n, a.k, f)], check=True, capture_output=True, text=True, env=env)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        extra = r["peak_mb"] - r["before_mb"]
        note = "" if r["exact_peak"] else "  (peak not resettable: includes the warm-up)"
        print(f"{f:>6} {r['synapses']:>10} {r['load_s']:>8.2f} {r['load_cpu_s']:>6.2f} {r['step_s']:>7.2f} {extra:>8.0f} "
              f"{extra * 2**20 / r['synapses']:>6.1f} {r['net_bytes'] / r['synapses']:>9.1f}{note}")


if __name__ == "__main__":
    main()
