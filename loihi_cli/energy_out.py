"""``loihi-emu run --energy [PROFILE]``: the energy and chip-time estimate of a run (docs/energy.md).

Three calls wire it into a command (``loihi_cli.emu_cmds``):

* ``add_arguments(parser)`` when the parser is built;
* ``probes = with_probes(args, probes)`` before the Emulator is made;
* ``out.update(report(args, image, emu.data, inputs))`` after the run, before
  the probes are saved: prints the estimate, writes the plot, and returns the
  per-step and per-core arrays to save with the probes.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

import numpy as np

from loihi_emu.energy import energy_probes, estimate_energy, list_profiles, load_profile
from loihi_emu.energy.plot import plot_per_core

SHOWN_STEPS = 10  # per-step lines printed at each end of a longer run


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--energy", nargs="?", const="davies2018", metavar="PROFILE",
                   help=f"estimate energy and chip time with a cost profile ({', '.join(list_profiles())} "
                        "or a .json file; default davies2018)")
    p.add_argument("--energy-plot", metavar="OUT.png", help="with --energy: per-core figure (needs the 'plot' extra)")


def with_probes(args: argparse.Namespace, probes: list) -> list:
    """``probes`` plus what the estimate needs, when ``--energy`` was given (a bad profile fails here, before the run)."""
    if not getattr(args, "energy", None):
        return list(probes)
    load_profile(args.energy)
    return energy_probes(probes)


def report(args: argparse.Namespace, image, data, inputs, out: TextIO | None = None) -> dict[str, np.ndarray]:
    """Print the estimate of a run (nothing without ``--energy``); return the arrays to save with the probes."""
    out = sys.stdout if out is None else out
    if not getattr(args, "energy", None):
        return {}
    rep = estimate_energy(image, data, args.energy, inputs=inputs)
    print(rep.summary(), file=out)
    per = rep.per_step
    steps = range(rep.steps)
    shown = list(steps) if rep.steps <= 2 * SHOWN_STEPS else [*steps[:SHOWN_STEPS], None, *steps[-SHOWN_STEPS:]]
    print("  step     energy (J)   chip time (s)", file=out)
    for t in shown:
        print("  ..." if t is None else f"  {t:<6d} {per['energy'][t]:12.4e} {per['time'][t]:14.4e}", file=out)
    if getattr(args, "energy_plot", None):
        plot_per_core(rep, args.energy_plot)
        print(f"  wrote the per-core figure to {args.energy_plot}", file=out)
    pc = rep.per_core
    return {"energy_step_J": per["energy"], "energy_step_time_s": per["time"], "energy_core_J": pc["energy"],
            "energy_core_labels": np.array(pc["label"])}
