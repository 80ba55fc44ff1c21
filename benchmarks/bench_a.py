"""bench-A: the emulator against the hand-written C loop, back to back.

    python benchmarks/bench_a.py [--n 100000] [--k 100] [--steps 1000] [--threads 1,2]
    python benchmarks/bench_a.py --n 1000000 --memory-only
    python benchmarks/bench_a.py --delays 16 --inputs 1000 [--in-rate 0.05]
    python benchmarks/bench_a.py --shared /path/to/bench ...

Makes bench-A with ``make_bench_net.py`` of the bench folder (``--shared``,
default ``../shared/bench`` next to the repository), runs its ``limit.c``
(compiled with gcc -O3 -march=native) on it, then
loads the same file with :func:`loihi_emu.conformance.load_vector` and runs it for
the same number of steps with 1 and 2 threads. Prints synaptic events/s
(spikes x fan-out), compartment updates/s and the ratio to the C loop. Only
the ``run`` is timed, best of ``--repeat`` alternating rounds, (the first step's numba compilation is done beforehand on
a tiny image; ``cache=True`` keeps it on disk).

``--delays D --inputs N``: the delay variant. bench-A plus N external input
axons (``--k`` synapses each to random compartments, each axon spiking with
probability ``--in-rate`` per step) is run twice per thread count, in
alternating rounds: with every synapse's delay drawn uniformly from 0..D-1
(seeded) and with all delays 0. Prints the event rate of each and their
ratio (delays / no delays); the C loop runs on plain bench-A (it has no
delays or inputs).

``--memory-only`` loads the image and reports the emulator's run-time bytes
per synapse (the flat arrays the kernels run over plus the state) without
running the C loop.
"""

from __future__ import annotations

import argparse
import gc
import json
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


def check_shared(path: Path) -> Path:
    """The bench folder, or exit with a message naming what is missing."""
    missing = [f for f in ("make_bench_net.py", "limit.c", "npz_to_bin.py") if not (path / f).is_file()]
    if missing:
        sys.exit(f"bench_a.py: the bench folder {path} lacks {', '.join(missing)}; pass --shared PATH "
                 "(the folder holding make_bench_net.py, limit.c and npz_to_bin.py)")
    return path


def make_bench(n: int, k: int, steps: int, workdir: Path) -> Path:
    path = workdir / f"bench_a_n{n}_k{k}.npz"
    if not path.exists():
        subprocess.run([sys.executable, str(SHARED / "make_bench_net.py"), "--n", str(n), "--k", str(k),
                        "--steps", str(steps), "--out", str(path)], check=True)
    return path


def make_delay_variants(npz: Path, delays: int, n_in: int, in_rate: float, workdir: Path,
                        seed: int = 1) -> tuple[Path, Path]:
    """(with delays, without delays): bench-A plus ``n_in`` input axons, delays uniform in 0..delays-1 or all 0."""
    tag = f"{npz.stem}_in{n_in}_r{in_rate}"
    with_d, without = workdir / f"{tag}_d{delays}.npz", workdir / f"{tag}_d0.npz"
    if with_d.exists() and without.exists():
        return with_d, without
    rng = np.random.default_rng(seed)
    with np.load(npz) as f:
        a = {key: f[key] for key in f.files}
    meta = json.loads(str(a["meta"]))
    n, steps = int(meta["n_comp"]), int(meta["steps"])
    k = a["syn_pre"].size // max(n, 1)
    m_in = n_in * k
    pre = np.concatenate([np.repeat(np.arange(n_in), k), a["syn_pre"].astype(np.int64) + n_in])
    post = np.concatenate([rng.integers(0, n, m_in), a["syn_post"]])
    wmant = np.concatenate([rng.integers(1, 40, m_in), a["syn_wmant"]])
    wexp = np.concatenate([np.zeros(m_in, np.int64), a["syn_wexp"]])
    meta.update(n_in=n_in, name=f"{meta['name']} + {n_in} inputs")
    a.update(syn_pre=pre.astype(np.int32), syn_post=post.astype(np.int32), syn_wmant=wmant.astype(np.int32),
             syn_wexp=wexp.astype(np.int32), syn_w=(wmant << (6 + wexp)).astype(np.int32),
             in_spikes=(rng.random((steps, n_in)) < in_rate).astype(np.uint8))
    for path, d in ((with_d, rng.integers(0, delays, pre.size)), (without, np.zeros(pre.size, np.int64))):
        a.update(syn_delay=d.astype(np.int32), meta=np.array(json.dumps(meta)))
        np.savez(path, **a)
    return with_d, without


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
    inputs = vec.inputs[:steps] if vec.n_in else None
    t0 = time.perf_counter()
    emu.run(steps, inputs)
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
    global SHARED
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "loihi_bench"))
    ap.add_argument("--repeat", type=int, default=3, help="rounds per thread count; the best is reported")
    ap.add_argument("--memory-only", action="store_true")
    ap.add_argument("--shared", type=Path, default=SHARED, help="folder of make_bench_net.py and limit.c")
    ap.add_argument("--delays", type=int, default=0, help="delay variant: delays uniform in 0..D-1")
    ap.add_argument("--inputs", type=int, default=1000, help="external input axons of the delay variant")
    ap.add_argument("--in-rate", type=float, default=0.05, help="spike probability per step of each input axon")
    a = ap.parse_args()
    SHARED = check_shared(a.shared.resolve())
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    npz = make_bench(a.n, a.k, a.steps, work)
    if a.delays > 1:
        warm_up()
        delay_report(npz, a, work)
        return
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


def delay_report(npz: Path, a, work: Path) -> None:
    """Rates with and without delays, alternating rounds, per thread count; their ratio."""
    c_rate = run_limit(npz, a.steps, work)
    paths = make_delay_variants(npz, a.delays, a.inputs, a.in_rate, work)
    vecs = [load_vector(p) for p in paths]
    print(f"bench-A n={a.n} k={a.k} + {a.inputs} inputs at {a.in_rate}/step: {vecs[0].image.n_synapses:,} synapses; "
          f"delays 0..{a.delays - 1} vs 0")
    threads = [int(x) for x in a.threads.split(",")]
    best: dict[tuple[int, int], tuple] = {}
    for _ in range(a.repeat):
        for th in threads:
            for v, vec in enumerate(vecs):
                res = run_emulator(vec, a.steps, th)
                if (th, v) not in best or res[0] > best[th, v][0]:
                    best[th, v] = res
    for th in threads:
        (ev_d, _, _, n_d), (ev_0, _, _, n_0) = best[th, 0], best[th, 1]
        c = f"  ({ev_d / c_rate:.2f}x / {ev_0 / c_rate:.2f}x limit.c on plain bench-A)" if c_rate else ""
        print(f"  emu: {th} thread(s): delays {ev_d:7.1f} M syn-ev/s, no delays {ev_0:7.1f} M syn-ev/s: "
              f"ratio {ev_d / ev_0:.2f}x{c}  (best of {a.repeat}; {n_d:,} / {n_0:,} events)")


if __name__ == "__main__":
    main()
