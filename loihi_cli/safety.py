"""What the commands share to fail safely: argument types, path checks, inputs, guarded runs, atomic results.

* :func:`whole_number` / :func:`positive` / :func:`non_negative`: argparse
  types whose errors are usage errors (exit 2).
* :func:`check_outputs`: every output path checked before the work starts
  (folder exists and is writable, not a folder, not one of the inputs).
* :func:`read_inputs`: a ``--inputs`` file, every value checked (no casts).
* :func:`guarded_run`: runs in chunks so that Ctrl-C stops at a step
  boundary (the steps done so far stay a valid result), and writes a
  checkpoint every N steps.
* :func:`write_npz`: an atomic ``.npz`` write under exactly the name given.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from collections.abc import Iterable

import numpy as np

from loihi_emu.errors import InputError, UsageError
from loihi_emu.image.npzread import NpzFile
from loihi_emu.runtime.progress import Progress
from loihi_emu.runtime.validate import check_run
from loihi_emu.safefile import atomic_write, check_output, same_file


def whole_number(lo: int | None = None, hi: int | None = None):
    """An argparse ``type``: a whole number within lo..hi."""
    def parse(text: str) -> int:
        try:
            v = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"{v} is outside {lo if lo is not None else ''}.."
                                             f"{hi if hi is not None else ''}")
        return v
    parse.__name__ = "whole number"
    return parse


positive = whole_number(1)
non_negative = whole_number(0)


def check_outputs(outputs: Iterable[tuple[str, str | None]], inputs: Iterable[str | os.PathLike | None]) -> None:
    """Check (label, path) outputs before any work: usable, distinct, and none of them an input."""
    inputs = [p for p in inputs if p is not None]
    seen: list[str] = []
    for label, path in outputs:
        if path is None:
            continue
        check_output(path, inputs, label)
        for other in seen:
            if same_file(path, other):
                raise UsageError(f"{label} {path}: is also another output ({other})")
        seen.append(path)


def read_inputs(path: str) -> np.ndarray:
    """Input spikes from an ``.npz``: ``spikes`` [steps, n_axons] of 0/1 (bool or integers) or ``pairs`` [k, 2]."""
    with NpzFile(path, InputError, "inputs file") as f:
        if "spikes" in f:
            arr = f.read("spikes", ndim=2, kinds="biu")
            bad = np.argwhere((arr != 0) & (arr != 1)) if arr.dtype.kind != "b" else np.zeros((0, 2))
            if bad.size:
                s, a = (int(x) for x in bad[0])
                raise InputError(f"{path}: spikes[{s}, {a}] = {arr[s, a]}: spikes must be 0 or 1")
            return arr.astype(bool)
        if "pairs" in f:
            return f.read("pairs", ndim=2, kinds="iu")
    raise InputError(f"{path}: expected an array named 'spikes' [steps, n_axons] or 'pairs' [k, 2]")


def _slice(inputs: np.ndarray | None, start: int, n: int) -> np.ndarray | None:
    """The inputs of steps start .. start + n - 1, with steps counted from ``start``."""
    if inputs is None:
        return None
    if inputs.dtype.kind == "b":
        return inputs[start : start + n]
    sel = (inputs[:, 0] >= start) & (inputs[:, 0] < start + n)
    out = inputs[sel].astype(np.int64)
    out[:, 0] -= start
    return out


def check_dense_inputs(inputs: np.ndarray | None, steps: int, n_in: int) -> None:
    """Dense input spikes must cover [steps, n_in] exactly; pairs are checked by the emulator."""
    if inputs is not None and inputs.dtype.kind == "b" and inputs.shape != (steps, n_in):
        raise InputError(f"input spike array has shape {inputs.shape}, expected [steps={steps}, n_axons={n_in}]")
    if inputs is not None and inputs.dtype.kind != "b":
        if inputs.shape[1:] != (2,):
            raise InputError(f"input pairs have shape {inputs.shape}, expected [k, 2] (step, axon)")
        bad = (inputs[:, 0] < 0) | (inputs[:, 0] >= steps) | (inputs[:, 1] < 0) | (inputs[:, 1] >= n_in)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"input pair {i} = (step {inputs[i, 0]}, axon {inputs[i, 1]}) is outside "
                             f"steps 0..{steps - 1}, axons 0..{n_in - 1}")


def guarded_run(emu, steps: int, inputs: np.ndarray | None, progress: bool = False,
                checkpoint_every: int | None = None, checkpoint: str | None = None) -> bool:
    """Run ``emu`` up to step ``steps`` (absolute); True when done, False when stopped by Ctrl-C.

    A first Ctrl-C stops at the next step boundary (and writes the checkpoint,
    if any); a second one aborts at once (KeyboardInterrupt). Every
    ``checkpoint_every`` steps the state is written to ``checkpoint``.
    """
    check_run(steps - emu.t, None, False, emu.data.bytes_per_step())
    stop = {"asked": False}

    def on_sigint(signum, frame):  # pragma: no cover - exercised through a real signal in the tests
        if stop["asked"]:
            raise KeyboardInterrupt
        stop["asked"] = True

    main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, on_sigint) if main else None
    bar = Progress(steps, enabled=progress)
    chunk = 1
    try:
        while emu.t < steps and not stop["asked"]:
            n = min(chunk, steps - emu.t)
            if checkpoint_every:
                n = min(n, checkpoint_every - emu.t % checkpoint_every)
            t0 = time.perf_counter()
            emu.run(n, _slice(inputs, emu.t, n))
            bar.update(emu.t)
            if checkpoint_every and emu.t % checkpoint_every == 0:
                emu.save_state(checkpoint)
            dt = time.perf_counter() - t0
            chunk = min(chunk * 2, 1 << 16) if dt < 0.05 else max(1, chunk // 2) if dt > 0.25 else chunk
        if stop["asked"] and checkpoint_every and emu.t % checkpoint_every:
            emu.save_state(checkpoint)
    finally:
        if main:
            signal.signal(signal.SIGINT, old)
        bar.close()
    return emu.t >= steps


def write_npz(path: str, arrays: dict[str, np.ndarray], what: str = "output") -> None:
    """Write ``arrays`` to exactly ``path`` (no suffix added), atomically."""
    with atomic_write(path, what) as fh:
        np.savez(fh, **arrays)
