"""bench-A: the emulator against the hand-written C loop, back to back.

    python benchmarks/bench_a.py [--n 100000] [--k 100] [--steps 1000] [--threads 1,2]
    python benchmarks/bench_a.py --n 1000000 --memory-only

Makes bench-A with ``../shared/bench/make_bench_net.py``, runs
``../shared/bench/limit.c`` (compiled with gcc -O3 -march=native) on it, then
loads the same file with :func:`loihi_emu.conformance.load_vector` and runs it for
the same number of steps with 1 and 2 threads. Prints synaptic events/s
(spikes x fan-out), compartment updates/s and the ratio to the C loop. Only
the ``run`` is timed, best of ``--repeat`` alternating rounds, (the first step's numba compilation is done beforehand on
a tiny image; ``cache=True`` keeps it on disk).

``--memory-only`` loads the image and reports the emulator's run-time bytes
per synapse (the flat arrays the kernels run over plus the state) without
running the C loop.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from loihi_emu import Emulator
from loihi_emu.conformance import load_vector
from loihi_emu.runtime.flatten import release_freed_memory

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"


def make_bench(n: int, k: int, steps: int, workdir: Path) -> Path:
    path = workdir / f"bench_a_n{n}_k{k}.npz"
    if not path.exists():
        subprocess.run([sys.executable, str(SHARED / "make_bench_net.py"), "--n", str(n), "--k", str(k),
                        "--steps", str(steps), "--out", str(path)], check=True)
    return path


def run_limit(npz: Path, steps: int, workdir: Path) -> float | None:
    """M synaptic events/s of limit.c (i32 layout), or None without gcc."""
    binary, data = workdir / "limit", npz.with_suffix(".bin")
    try:
        if not binary.exists():
            subprocess.run(["gcc", "-O3", "-march=native", "-o", str(binary), str(SHARED / "limit.c")], check=True)
        if not data.exists():
            subprocess.run([sys.executable, str(SHARED / "npz_to_bin.py"), str(npz), str(data)], check=True,
                           stdout=subprocess.DEVNULL)
        out = subprocess.run([str(binary), str(data), str(steps), "i32"], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"limit.c not run: {exc}")
        return None
    print("  C  :", out.strip())
    return float(re.search(r"([\d.]+) M syn-ev/s", out).group(1))


def warm_up() -> None:
    from loihi_emu import build_image

    img = build_image(dict(decay_u_reg=0, decay_v=0, vth_mant=1, bias_mant=0, bias_exp=0, refract=1, vmin=0, vmax=1),
                      np.zeros(2, int), n_in=1, syn_pre=[0], syn_post=[1], syn_wmant=[1])
    Emulator(img).run(3, [(0, 0)])


def run_emulator(vec, steps: int, threads: int) -> tuple[float, float, int, int]:
    numba.set_num_threads(threads)
    emu = Emulator(vec.image, probes=[], n_threads=threads)
    t0 = time.perf_counter()
    emu.run(steps)
    dt = time.perf_counter() - t0
    spikes = int(emu.spike_counts.sum())
    return emu.synaptic_events / dt / 1e6, vec.image.n_compartments * steps / dt / 1e6, spikes, emu.synaptic_events


def current_rss() -> int:
    """Resident bytes of this process now (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_report(vec, baseline_rss: int) -> None:
    """Bytes per synapse the emulator holds at run time, once the image and the file are dropped."""
    n_syn = vec.image.n_synapses
    emu = Emulator(vec.image, probes=[], n_threads=1)
    vec.image = None  # the emulator keeps no reference to the image
    gc.collect()
    release_freed_memory()
    emu.run(2)
    state = sum(a.nbytes for a in (emu.u, emu.v, emu.refractory, emu._ring, emu._spiked, emu.spike_counts))
    flat = emu.net.nbytes
    print(f"  run-time arrays: {flat / n_syn:.2f} B/synapse (flat network) + {state / n_syn:.2f} B/synapse (state) "
          f"= {(flat + state) / n_syn:.2f} B/synapse over {n_syn:,} synapses")
    rss = current_rss() - baseline_rss
    print(f"  resident memory while running, above the interpreter and numba: {rss / n_syn:.2f} B/synapse "
          f"({rss / 2**30:.2f} GiB)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"  peak RSS of the whole process (file, board image and load temporaries): {peak / 2**30:.2f} GiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "loihi_bench"))
    ap.add_argument("--repeat", type=int, default=3, help="rounds per thread count; the best is reported")
    ap.add_argument("--memory-only", action="store_true")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    npz = make_bench(a.n, a.k, a.steps, work)
    warm_up()
    baseline = current_rss()
    t0 = time.perf_counter()
    vec = load_vector(npz)
    print(f"bench-A n={a.n} k={a.k}: loaded {vec.image.n_synapses:,} synapses on {len(vec.image.cores)} cores "
          f"in {time.perf_counter() - t0:.1f} s")
    if a.memory_only:
        memory_report(vec, baseline)
        return
    c_rate = run_limit(npz, a.steps, work)
    threads = [int(x) for x in a.threads.split(",")]
    best: dict[int, tuple] = {}
    for _ in range(a.repeat):  # alternate configurations; keep each one's best round
        for th in threads:
            res = run_emulator(vec, a.steps, th)
            if th not in best or res[0] > best[th][0]:
                best[th] = res
    base = best[threads[0]][0]
    for th in threads:
        ev, cu, spikes, events = best[th]
        ratio = f"{ev / c_rate:.2f}x limit.c" if c_rate else "no C baseline"
        print(f"  emu: {th} thread(s): {ev:7.1f} M syn-ev/s  {cu:6.1f} M comp-upd/s  {ratio}  "
              f"{ev / base:.2f}x {threads[0]} thread(s)  (best of {a.repeat}; {spikes:,} spikes, {events:,} events)")
    memory_report(vec, baseline)


if __name__ == "__main__":
    main()
