"""Emulator sub-commands: ``conform``, ``run`` and ``demo``."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from loihi_emu import Emulator, load
from loihi_emu.errors import ImageFileError, InputError, LoihiError
from loihi_emu.runtime.probes import QUANTITIES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("conform", help="run conformance vectors and compare bit for bit")
    p.add_argument("paths", nargs="+", help="vector files (.npz) or folders of them")
    p.add_argument("--backend", default="numba", choices=("numba", "numpy"))
    p.set_defaults(func=cmd_conform)

    p = sub.add_parser("run", help="run a saved board image and save the probes")
    p.add_argument("image", help="board image (.npz, from `compile` or loihi_emu.save)")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--inputs", help=".npz with 'spikes' [steps, n_axons] uint8 or 'pairs' [k, 2] (step, axon)")
    p.add_argument("--probe", default="spikes", help="comma-separated: " + ",".join(QUANTITIES))
    p.add_argument("-o", "--output", required=True, help="output .npz for the probed arrays")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="compile and run the embedded default network")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
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
        except (LoihiError, FileNotFoundError) as exc:
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


def _read_inputs(path: str, steps: int) -> np.ndarray:
    try:
        files = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ImageFileError(f"{path}: not a readable .npz file ({exc})") from None
    with files:
        if "spikes" in files.files:
            return files["spikes"].astype(np.uint8)
        if "pairs" in files.files:
            return files["pairs"]
    raise InputError(f"{path}: expected an array named 'spikes' [steps, n_axons] or 'pairs' [k, 2]")


def cmd_run(args: argparse.Namespace) -> int:
    image = load(args.image)
    probes = [q.strip() for q in args.probe.split(",") if q.strip()]
    inputs = _read_inputs(args.inputs, args.steps) if args.inputs else None
    emu = Emulator(image, probes=probes)
    t0 = time.perf_counter()
    emu.run(args.steps, inputs, progress=not args.quiet and args.steps >= 100)
    dt = time.perf_counter() - t0
    out = {k: emu.data[k] for k in emu.data}
    np.savez(args.output, **out)
    print(
        f"ran {args.steps} steps of {emu.n_compartments} compartments in {dt:.2f} s; "
        f"{int(emu.spike_counts.sum())} spikes, {emu.synaptic_events} synaptic events; "
        f"wraps {emu.wraps}; wrote {', '.join(out)} to {args.output}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from loihi_cli.demo import run_demo

    return run_demo(args.steps, args.seed, args.plot, out=sys.stdout)
