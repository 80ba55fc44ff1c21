"""Emulator sub-commands: ``conform``, ``run`` and ``demo``."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from loihi_cli import energy_out, mpi_run
from loihi_cli.run_args import parse_probe_args, read_inputs, run_length
from loihi_cli.safety import check_dense_inputs, check_outputs, guarded_run, non_negative, positive
from loihi_cli.warn import cli_warnings
from loihi_emu import Emulator, load
from loihi_emu.errors import LoihiError, UsageError
from loihi_emu.image.digest import image_digest
from loihi_emu.image.input_eval import program_array
from loihi_emu.results import results_from
from loihi_emu.runtime.probes import QUANTITIES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("conform", help="run conformance vectors and compare bit for bit")
    p.add_argument("paths", nargs="+", help="vector files (.npz) or folders of them")
    p.add_argument("--backend", default="numba", choices=("numba", "numpy"))
    p.set_defaults(func=cmd_conform)

    p = sub.add_parser("run", help="run a saved board image and save the probes")
    p.add_argument("image", help="board image (.npz, from `compile` or loihi_emu.save)")
    p.add_argument("--steps", type=non_negative, default=None,
                   help="run until this step (absolute; default: the length of --inputs, else of the image's "
                        "input program when it is finite)")
    p.add_argument("--inputs", help=".npz with 'spikes' [steps, n_axons] 0/1 or 'pairs' [k, 2] (step, axon); "
                                    "overrides the image's input program")
    p.add_argument("--probe", action="append", default=None, metavar="[POP:]Q,Q",
                   help="what to record, repeatable: 'exc:v,spikes' (population exc, or a slice exc[0:10]) or "
                        "'spikes,v' (all compartments); quantities: " + ",".join(QUANTITIES) + " (default: spikes)")
    p.add_argument("--every", type=positive, default=1, help="record u, v, traces and weights every k-th step (default 1)")
    p.add_argument("--seed", type=non_negative, default=0, help="seed of every random choice (stochastic rounding, compartment noise)")
    p.add_argument("--checkpoint-every", type=positive, metavar="N", help="write a checkpoint every N steps")
    p.add_argument("--checkpoint", metavar="STATE.npz", help="checkpoint file (default: OUTPUT.state.npz)")
    p.add_argument("--resume", metavar="STATE.npz", help="continue from a checkpoint of the same image and probes")
    p.add_argument("-o", "--output", required=True, help="results file to write (.npz with a JSON header)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    energy_out.add_arguments(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="compile and run the embedded default network")
    p.add_argument("--steps", type=non_negative, default=1000)
    p.add_argument("--seed", type=non_negative, default=0)
    p.add_argument("--plot", metavar="OUT.png", help="write a raster plot (needs the 'plot' extra)")
    p.set_defaults(func=cmd_demo)


def cmd_conform(args: argparse.Namespace) -> int:
    from loihi_emu.conformance import check_vector, find_vectors, load_vector

    passed = failed = 0
    for path in find_vectors(args.paths):
        try:
            vec = load_vector(path)
            mismatch = check_vector(vec, backend=args.backend)
            name = vec.name
        except (LoihiError, OSError) as exc:
            print(f"FAIL {path.name}: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        if mismatch is None:
            print(f"PASS {name}")
            passed += 1
        else:
            print(f"FAIL {name}: {mismatch}")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    if mpi_run.launched():  # started by mpiexec: every rank runs its chips
        return mpi_run.cmd_run_mpi(args)
    ckpt = args.checkpoint or (f"{args.output}.state.npz" if args.checkpoint_every else None)
    check_outputs([("output", args.output)], [args.image, args.inputs, args.resume, ckpt])
    check_outputs([("checkpoint", ckpt)], [args.image, args.inputs])  # may be the --resume file: read first
    with cli_warnings():
        image = load(args.image)
        inputs = read_inputs(args.inputs) if args.inputs else None
        steps = run_length(args.steps, inputs, image.input_program)
        check_dense_inputs(inputs, steps, image.n_inputs)
        probes, selectors = parse_probe_args(args.probe, args.every)
        emu = Emulator(image, seed=args.seed, probes=energy_out.with_probes(args, probes))
        if args.resume:
            emu.load_state(args.resume)
            if emu.t > steps:
                raise UsageError(f"--resume {args.resume}: the checkpoint is at step {emu.t}, past --steps {steps}")
        t0 = time.perf_counter()
        done = guarded_run(emu, steps, inputs, not args.quiet and steps >= 100, args.checkpoint_every, ckpt)
        dt = time.perf_counter() - t0
        results = results_from(emu.data, image.populations, emu.t, args.seed, image_digest(image), selectors)
        if done:
            played = inputs if inputs is not None or image.input_program is None else program_array(
                image.input_program, 0, steps)
            results.extras.update(energy_out.report(args, image, emu.data, played))
        else:
            results.extras.update(partial=np.array(True), steps_done=np.array(emu.t, np.int64))
        results.save(args.output)
    what = "ran" if done else f"interrupted: ran {emu.t} of"
    print(
        f"{what} {steps} steps of {emu.n_compartments} compartments in {dt:.2f} s; "
        f"{int(emu.spike_counts.sum())} spikes, {emu.synaptic_events} synaptic events; "
        f"wraps {emu.wraps}; wrote {', '.join(emu.data)} to {args.output}"
        + ("" if done else " (marked partial)") + (f"; checkpoint {ckpt}" if ckpt else "")
    )
    return 0 if done else 130


def cmd_demo(args: argparse.Namespace) -> int:
    from loihi_cli.demo import run_demo

    check_outputs([("plot", args.plot)], [])
    return run_demo(args.steps, args.seed, args.plot, out=sys.stdout)
