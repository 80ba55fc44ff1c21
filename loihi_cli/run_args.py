"""Arguments of ``loihi-emu run`` shared by the one-process and the MPI run: inputs, run length, probes."""

from __future__ import annotations

import numpy as np

from loihi_cli.safety import read_inputs  # noqa: F401  (the one reader of --inputs files)
from loihi_emu.errors import InputError, ProbeError
from loihi_emu.runtime.probes import QUANTITIES, Probe


def parse_probe_args(values: list[str] | None, every: int) -> tuple[list[Probe], dict[str, str | None]]:
    """``["exc:v,spikes", "u"]`` -> emulator probes (keys ``exc:v``, ``exc:spikes``, ``u``) and their selectors."""
    if every < 1:
        raise ProbeError(f"--every must be a positive number of steps, got {every}")
    probes, selectors = [], {}
    for text in values or ["spikes"]:
        sel, _, qs = text.rpartition(":") if ":" in text else ("", "", text)
        sel = sel.strip() or None
        for q in (x.strip() for x in qs.split(",")):
            if not q:
                continue
            if q not in QUANTITIES:
                raise ProbeError(f"--probe {text!r}: unknown quantity {q!r}; known: {', '.join(QUANTITIES)}")
            key = f"{sel}:{q}" if sel else q
            if key in selectors:
                raise ProbeError(f"--probe {text!r}: {key!r} is asked for twice")
            probes.append(Probe(q, sel, 1 if q == "spikes" else every, key))
            selectors[key] = sel
    return probes, selectors


def run_length(steps: int | None, inputs: np.ndarray | None, program) -> int:
    """--steps, else the length of the given inputs, else of the image's input program (when finite)."""
    if steps is None and inputs is not None:  # the given inputs fix the length
        if inputs.dtype.kind == "b" or (inputs.dtype == np.uint8 and inputs.ndim == 2):
            steps = inputs.shape[0]
        elif inputs.ndim == 2 and inputs.shape[1] == 2 and inputs.dtype.kind in "iu" and inputs.size:
            steps = int(inputs[:, 0].max()) + 1
    if steps is None:
        steps = program.length if program is not None else None
        if steps is None:
            raise InputError("give --steps: the image's input program has no finite length "
                             "(its inputs are generators or it has none)")
    return steps
