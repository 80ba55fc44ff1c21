"""``mpiexec -n R loihi-emu run board.npz ...``: the run on R MPI ranks, results written by rank 0.

``run`` takes this path when an MPI launcher started it (its environment
names a rank: ``PMI_RANK``, ``PMIX_RANK`` or ``OMPI_COMM_WORLD_RANK``). Every
rank reads only its own chips of the image; rank 0 writes the results file,
the same as one process writes. Errors: one that every rank meets (too few
chips, a bad probe) is printed once, by rank 0, and every rank exits with 2;
an unexpected failure on one rank aborts the whole job (``MPI_Abort``, exit
code 1 everywhere) after printing it with the rank's number, so no rank waits
forever for another.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from loihi_cli.run_args import parse_probe_args, read_inputs, run_length
from loihi_cli.warn import cli_warnings
from loihi_emu.errors import LoihiError

RANK_VARIABLES = ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK")
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def launched() -> bool:
    """True when an MPI launcher (mpiexec, srun) started this process."""
    return any(v in os.environ for v in RANK_VARIABLES)


def cmd_run_mpi(args: argparse.Namespace) -> int:
    try:
        from mpi4py import MPI
    except ImportError:
        print("loihi-emu run: started by an MPI launcher, but mpi4py is not installed: "
              "pip install 'loihi-emu[mpi]' (mpi4py and the mpich wheel)", file=sys.stderr)
        return 2
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    launched_size = next((int(os.environ[v]) for v in SIZE_VARIABLES if os.environ.get(v, "").isdigit()), None)
    if launched_size is not None and launched_size != comm.Get_size():
        print(f"loihi-emu run: the launcher started {launched_size} processes but MPI sees {comm.Get_size()}: "
              "mpiexec belongs to another MPI than the one mpi4py uses (use the mpiexec of the mpich wheel, "
              "next to this Python)", file=sys.stderr)
        return 2
    try:
        return _run(args, comm)
    except LoihiError as exc:  # met by every rank (agreed errors, bad arguments): told once
        if rank == 0:
            print(f"loihi-emu run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except BaseException as exc:  # one rank failed alone: stop every rank rather than hang
        print(f"loihi-emu run: rank {rank} of {comm.Get_size()} failed: {type(exc).__name__}: {exc}",
              file=sys.stderr, flush=True)
        comm.Abort(1)
        return 1


def _run(args: argparse.Namespace, comm) -> int:
    from loihi_emu.image.digest import image_digest, store_digest
    from loihi_emu.image.file import load
    from loihi_emu.image.store import FORMAT, ImageStore, format_of
    from loihi_emu.results import results_from
    from loihi_emu.runtime.distributed import DistributedEmulator
    from loihi_emu.runtime.partition_ranks import RankError

    if getattr(args, "energy", None):
        raise RankError("--energy is not available on several MPI ranks yet; run it on one process")
    with cli_warnings():
        inputs = read_inputs(args.inputs) if args.inputs else None
        probes, selectors = parse_probe_args(args.probe, args.every)
        emu = DistributedEmulator(args.image, seed=args.seed, probes=probes, comm=comm)
        steps = run_length(args.steps, inputs, emu.input_program)
        comm.Barrier()
        t0 = time.perf_counter()
        emu.run(steps, inputs, progress=not args.quiet and steps >= 100)
        dt = time.perf_counter() - t0
        spikes, events = emu.total_spikes(), emu.total_synaptic_events()
        exchange = comm.reduce(emu.exchange_seconds, op=_max(), root=0)
        if comm.Get_rank() == 0:
            digest = store_digest(ImageStore(args.image)) if format_of(args.image) == FORMAT else \
                image_digest(load(args.image))  # chip by chip: rank 0 never holds the whole image
            results = results_from(emu.data, emu.populations, steps, args.seed, digest, selectors)
            results.save(args.output)
            print(f"ran {steps} steps of {emu.n_compartments} compartments on {comm.Get_size()} ranks in "
                  f"{dt:.2f} s (exchange {exchange:.2f} s on the slowest rank); {spikes} spikes, {events} synaptic "
                  f"events; wrote {', '.join(emu.data)} to {args.output}")
    comm.Barrier()
    return 0


def _max():
    from mpi4py import MPI

    return MPI.MAX
