"""The emulator on 2 MPI ranks against 1 process (1 thread), in one run.

    python benchmarks/bench_mpi.py [--n 100000] [--k 100] [--steps 300] [--chips 2] [--ranks 2]

Builds a bench-A-like network (recurrent CUBA compartments, fixed fan-in k
from random sources anywhere in the network, 20 % inhibitory sources,
bias-driven activity; the recipe of ``benchmarks/bench_a.py``), placed on
``--chips`` chips, and saves it as a ``loihi-image/3`` file. Times
``Emulator.run`` on one process with one thread, then launches
``mpiexec -n RANKS`` on the same file (each rank reads its chips) and times
the same run there (after a barrier; the slowest rank counts). Checks that the
spike counts agree, and prints steps/s of both, their ratio, and per step:
the exchange (the whole hook: packing, Alltoall + Alltoallv, delivering remote
spikes), the two collectives alone, an empty exchange (latency alone) and the
spikes sent between ranks. Numbers depend on the machine's load: run it on
idle cores (MPICH ranks busy-poll).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from loihi_emu import Emulator, build_image, save


def bench_image(n: int, k: int, chips: int, seed: int = 0):
    """bench-A's recipe (docs/scaling.md) on ``chips`` chips, compartments spread evenly over 1024-compartment cores."""
    rng = np.random.default_rng(seed)
    regs = dict(decay_u_reg=np.full(n, 409), decay_v=np.full(n, 205), vth_mant=np.full(n, 200),
                bias_mant=rng.integers(250, 700, n), bias_exp=np.zeros(n, int), refract=np.full(n, 2),
                vmin=np.full(n, -(1 << 23) + 1), vmax=np.full(n, (1 << 23) - 1))
    post = np.repeat(np.arange(n), k)
    pre = rng.integers(0, n, n * k)
    inhib = rng.random(n) < 0.2
    wmant = rng.integers(1, 40, n * k)
    wmant = np.where(inhib[pre], -5 * wmant, wmant)
    per_chip = -(-n // chips)
    chip = np.arange(n) // per_chip
    core_of = chip * 128 + (np.arange(n) - chip * per_chip) // 1024
    return build_image(regs, core_of, n_in=0, syn_pre=pre, syn_post=post, syn_wmant=np.clip(wmant, -256, 255))


def worker(path: str, steps: int) -> None:
    """Run under mpiexec: time the distributed run; rank 0 prints one JSON line."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    emu = Emulator(path, probes=[], comm=comm, n_threads=1)
    emu.run(2)  # compile and settle
    for k in ("exchange_seconds", "comm_seconds"):
        setattr(emu, k, 0.0)
    sent0 = emu.spikes_sent
    comm.Barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    emu.run(steps)
    cpu = comm.allreduce(time.process_time() - c0, op=MPI.MAX)
    dt = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
    ex = comm.allreduce(emu.exchange_seconds, op=MPI.MAX)
    co = comm.allreduce(emu.comm_seconds, op=MPI.MAX)
    sent = comm.allreduce(emu.spikes_sent - sent0)
    spikes = emu.total_spikes()
    z = np.zeros((comm.size, 2), np.int64)
    r = np.zeros_like(z)
    e = np.zeros(0, np.int64)
    comm.Barrier()
    t1 = time.perf_counter()
    for _ in range(steps):
        comm.Alltoall(z, r)
        comm.Alltoallv([e, (z[:, 0], z[:, 0]), MPI.INT64_T], [e, (z[:, 0], z[:, 0]), MPI.INT64_T])
    empty = comm.allreduce(time.perf_counter() - t1, op=MPI.MAX)
    # the same volume without the wait for a slower rank: the mean message of the run to every peer
    m = int(round(sent / steps / max(comm.size * (comm.size - 1), 1)))
    c = np.full(comm.size, m, np.int64)
    c[comm.rank] = 0
    d = np.concatenate([[0], np.cumsum(c)[:-1]])
    buf, rbuf = np.arange(c.sum(), dtype=np.int64), np.empty(c.sum(), np.int64)
    comm.Barrier()
    t1 = time.perf_counter()
    for _ in range(steps):
        comm.Alltoall(z, r)
        comm.Alltoallv([buf, (c, d), MPI.INT64_T], [rbuf, (c, d), MPI.INT64_T])
    full = comm.allreduce(time.perf_counter() - t1, op=MPI.MAX)
    if comm.rank == 0:
        print(json.dumps(dict(seconds=dt, cpu=cpu, exchange=ex, comm=co, empty=empty, full=full, per_peer=m, sent=sent,
                              spikes=spikes, ranks=comm.size)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--chips", type=int, default=2)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="alternating rounds of both; the best of each is reported")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a.worker, a.steps)
    mpiexec = shutil.which("mpiexec") or shutil.which("mpiexec", path=str(Path(sys.executable).parent))
    if mpiexec is None:
        sys.exit("no mpiexec: pip install 'loihi-emu[mpi]'")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.npz")
        image = bench_image(a.n, a.k, a.chips)
        save(image, path)
        print(f"bench-A-like: {image.n_compartments:,} compartments, {image.n_synapses:,} synapses, "
              f"{len(image.chips)} chips, {a.steps} steps")
        numba.set_num_threads(1)
        emu = Emulator(image, probes=[], n_threads=1)
        del image
        env = dict(os.environ, UCX_TLS="self,sm", NUMBA_NUM_THREADS="1")
        cmd = [mpiexec, "-n", str(a.ranks), sys.executable, __file__, "--worker", path, "--steps", str(a.steps)]
        one, runs, cpu1 = [], [], float("inf")
        for k in range(a.repeat):
            emu.run(2)
            t0, c0 = time.perf_counter(), time.process_time()
            emu.run(a.steps)
            one.append(time.perf_counter() - t0)
            cpu1 = min(cpu1, time.process_time() - c0)
            if k == 0:
                spikes1 = int(emu.spike_counts.sum())
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
            if out.returncode:
                sys.exit(out.stdout + out.stderr)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            assert runs[-1]["spikes"] == spikes1, f"spike counts differ: {runs[-1]['spikes']} on {a.ranks} ranks, " \
                                                  f"{spikes1} on one process"
        one = min(one)
        r = min(runs, key=lambda x: x["seconds"])
    s = a.steps
    rate = spikes1 / (s + 2) / a.n
    print(f"  1 process, 1 thread : {s / one:8.1f} steps/s ({one / s * 1e3:.3f} ms/step); {spikes1:,} spikes "
          f"({rate * 1e3:.2f} per 1000 compartments per step)")
    print(f"  {a.ranks} ranks             : {s / r['seconds']:8.1f} steps/s ({r['seconds'] / s * 1e3:.3f} ms/step)")
    print(f"  speed-up {one / r['seconds']:.2f}x; CPU time per step {cpu1 / s * 1e3:.3f} ms on one process, "
          f"{r['cpu'] / s * 1e3:.3f} ms on the busiest rank (includes its busy waiting)")
    print(f"  exchange per step: {r['exchange'] / s * 1e6:.1f} us (hook), {r['comm'] / s * 1e6:.1f} us (Alltoall + "
          f"Alltoallv, incl. waiting for the slower rank), {r['empty'] / s * 1e6:.1f} us (empty exchange), "
          f"{r['full'] / s * 1e6:.1f} us (the same volume alone: {r['per_peer']} ids to each peer); "
          f"{r['sent'] / s:.1f} spikes sent per step")


if __name__ == "__main__":
    main()
