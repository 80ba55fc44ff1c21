"""The emulator: loads a board image and runs it in algorithmic timesteps.

One step ``t`` (SEMANTICS.md §1) is two stages (plus ``sources``, which lists
the spikes of step t between them), ordered by :func:`loihi_emu.runtime.kernels._step`
and nowhere else, for both backends:

1. ``update`` reads and clears ring slot ``t mod D`` (the dendritic input of
   step t), advances u, v and the refractory counters of every compartment,
   and flags the spikes of step t;
2. ``deliver`` adds, for every spike of step t (compartments and external
   input axons alike), each synapse's weight to ring slot
   ``(t + 1 + delay) mod D``, where it acts in step ``t + 1 + delay``.

D = largest delay + 1 slots suffice: in step t slots t+1 .. t+D are pending
and slot t was cleared by ``update``.

With plastic synapses (:mod:`loihi_emu.learning.engine`) the step becomes:
learning impulses and rule (for the spikes of step t-1), trace probes,
trace decay, ``update``, ``deliver`` (static), plastic ``deliver`` (with the
weights as this step's rule left them), then the end-of-step probes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numba
import numpy as np

from loihi_emu.errors import InputError, InputWarning, LoihiError, WrapError
from loihi_emu.image.core import Image
from loihi_emu.image.input_eval import program_array
from loihi_emu.learning.engine import LearningEngine
from loihi_emu.learning.flat import flatten_learning
from loihi_emu.runtime.flatten import flatten, release_freed_memory, step_arrays
from loihi_emu.runtime.kernels import STEPS, WRAP_NAMES, slot_base, step_for
from loihi_emu.runtime.probes import SYNAPSE_QUANTITIES, TRACE_QUANTITIES, Probe, ProbeData, normalize_probes
from loihi_emu.runtime.progress import Progress
from loihi_emu.runtime.state import load_state, save_state
from loihi_emu.runtime.validate import check_init, check_run, check_step_inputs


class Emulator:
    """Run a board image bit-exactly.

    image: the board image. seed: the seed of every random choice (stochastic
    rounding of learning profiles that ask for it, compartment noise of
    compartments that have it: docs/noise.md).
    probes: quantities to record, names ('spikes', 'u', 'v', traces 'x1',
    'x2', 'y1'..'y3', plastic synapses 'w', 'wmant', 'delay', 'tag') or
    :class:`Probe`.
    strict: raise :class:`WrapError` on the first wrap of q, u or u2.
    backend: 'numba' (fast) or 'numpy' (the reference twin, slow).
    n_threads: threads (target blocks) of the numba step. Default: one
    thread below ``PARALLEL_MIN_SYNAPSES`` synapses (thread start-up costs
    more than it gains there), else numba's thread count. Never changes bits.
    comm: an MPI communicator (``MPI.COMM_WORLD``): the run is spread over its
    ranks, each owning whole chips, with the same bits; ``image`` may then be a
    path, read chip by chip (:class:`~loihi_emu.runtime.distributed.DistributedEmulator`).
    """

    PARALLEL_MIN_SYNAPSES = 1_000_000
    MAX_THREADS = 1024
    """Most threads (target blocks) ``n_threads`` may ask for."""

    DISTRIBUTED: list[type] = []  # the MPI emulator class, registered by loihi_emu.runtime.distributed

    def __new__(cls, *args, comm=None, **kwargs):
        """``Emulator(image_or_path, comm=MPI.COMM_WORLD)`` makes the distributed emulator
        (:mod:`loihi_emu.runtime.distributed`); without ``comm`` an ordinary one."""
        if comm is not None and cls is Emulator:
            if not cls.DISTRIBUTED:
                raise LoihiError("Emulator(comm=...) needs loihi_emu.runtime.distributed (import it first)")
            return object.__new__(cls.DISTRIBUTED[0])
        return object.__new__(cls)

    def __init__(
        self,
        image: Image,
        seed: int = 0,
        probes: Iterable[str | Probe] = ("spikes",),
        strict: bool = False,
        backend: str = "numba",
        n_threads: int | None = None,
        comm=None,
    ) -> None:
        probes = check_init(image, seed, probes, strict, backend, n_threads, self.MAX_THREADS)
        if backend not in STEPS:
            raise LoihiError(f"unknown backend {backend!r}; choose from {sorted(STEPS)}")
        # the emulator keeps no reference to the image: at run time only the
        # flat arrays live (docs/emulator.md, "Run-time layout")
        self.spec = image.spec
        self._addresses = np.array([c.address for c in image.cores], np.int64).reshape(-1, 2)
        self.seed = int(seed)
        self.strict = bool(strict)
        self.backend = backend
        if n_threads is None:
            big = image.n_synapses >= self.PARALLEL_MIN_SYNAPSES
            n_threads = numba.get_num_threads() if big else 1
        self.n_threads = max(1, int(n_threads))
        plastic = flatten_learning(image)
        self.net = flatten(image, self.n_threads if backend == "numba" else 1, plastic.n_slots if plastic else 1)
        n = self.net.n
        self.learning = LearningEngine(plastic, self.spec, self.seed, backend, self.n_threads) if plastic else None
        n_plastic = plastic.n_plastic if plastic else 0
        sizes = {"x1": self.net.n_in + n, "x2": self.net.n_in + n, **{q: n_plastic for q in SYNAPSE_QUANTITIES}}
        self.input_program = image.input_program  # played by run()/step() when no inputs are given
        self.populations = image.populations
        self._probes = normalize_probes(probes, n, sizes, self.populations)
        self.data = ProbeData(self._probes, n, sizes)
        self._want_traces = bool(self.data.quantities & set(TRACE_QUANTITIES))
        self._want_synapses = bool(self.data.quantities & set(SYNAPSE_QUANTITIES))
        # the kernels' one struct; the state attributes below are its arrays
        self.arrays = a = step_arrays(self.net, self.spec, self.seed)
        self._run_step = step_for(backend, a)
        self.u, self.v, self.refractory, self.spike_counts = a.u, a.v, a.cnt, a.spike_counts
        self._ring, self._spiked, self._wraps, self._first_wrap = a.ring, a.spiked, a.wraps, a.first_wrap
        release_freed_memory()
        self._recording = len(self.data) > 0
        self.t = 0
        self.synaptic_events = 0

    # ------------------------------------------------------------------ state
    @property
    def n_compartments(self) -> int:
        return self.net.n

    @property
    def n_inputs(self) -> int:
        return self.net.n_in

    @property
    def wraps(self) -> dict[str, int]:
        """Wrap-arounds counted so far, per quantity ('q', 'u', 'u2')."""
        return {name: int(c) for name, c in zip(WRAP_NAMES, self._wraps)}

    def plastic_synapses(self) -> dict[str, np.ndarray]:
        """The plastic synapses in the stable order that 'w' probes and learning use.

        Keys, each int64 [P]: 'source' (input i, or n_in + g for compartment
        g; -1 for a row no route reaches), 'target' (global compartment),
        'chip', 'core' (address of the holding core), 'synapse' (index in that
        core's SynapseTable). Order: source, then target, then position in the row.
        """
        if self.learning is None:
            z = np.zeros(0, np.int64)
            return {k: z for k in ("source", "target", "chip", "core", "synapse")}
        f = self.learning.flat
        chips, idx = self._addresses[:, 0], self._addresses[:, 1]
        return {
            "source": np.where(f.pl_pre < f.n_src, f.pl_pre, -1), "target": f.pl_post.copy(),
            "chip": chips[f.core_pos], "core": idx[f.core_pos], "synapse": f.core_syn.copy(),
        }

    def _learning_state(self, which: str) -> dict[str, np.ndarray]:
        """Probe values of the learning quantities ('traces' or 'synapses'), also without plastic synapses."""
        lrn, n_src, n = self.learning, self.net.n_in + self.net.n, self.net.n
        if which == "traces":
            if lrn is None:
                return {"x1": np.full(n_src, -1, np.int32), "x2": np.full(n_src, -1, np.int32),
                        **{q: np.full(n, -1, np.int32) for q in ("y1", "y2", "y3")}}
            return lrn.traces()
        if lrn is None:
            z = np.zeros(0, np.int32)
            return {q: z for q in SYNAPSE_QUANTITIES}
        return {"w": lrn.effective_weights(), "wmant": lrn.w, "delay": lrn.d, "tag": lrn.tg}

    def core_spike_counts(self) -> dict[tuple[int, int], int]:
        """Spikes emitted so far, per (chip, core)."""
        net = self.net
        out = {(int(a), int(b)): 0 for a, b in self._addresses}
        key = (net.chip.astype(np.int64) << 32) | net.core
        keys, inv = np.unique(key, return_inverse=True)
        counts = np.bincount(inv.ravel(), weights=self.spike_counts, minlength=keys.size)
        for k, c in zip(keys, counts):
            out[(int(k >> 32), int(k & 0xFFFFFFFF))] = int(c)
        return out

    # ------------------------------------------------------------------ checkpoints
    def _state(self) -> dict:
        """The mutable state (live arrays, not copies, and scalars) that a checkpoint must hold.

        :mod:`loihi_emu.runtime.state` saves exactly this and restores it with :meth:`_restore`.
        """
        out = {"t": self.t, "synaptic_events": self.synaptic_events, "u": self.u, "v": self.v,
               "refractory": self.refractory, "ring": self._ring, "spiked": self._spiked, "wraps": self._wraps,
               "first_wrap": self._first_wrap, "spike_counts": self.spike_counts}
        if self.learning is not None:
            lrn = self.learning
            out.update({"learning.x_tr": lrn.x_tr, "learning.y_tr": lrn.y_tr, "learning.x_last": lrn.arrays.x_last,
                        "learning.y_last": lrn.arrays.y_last, "learning.w": lrn.w, "learning.d": lrn.d,
                        "learning.tg": lrn.tg, "learning.prev_src": lrn._prev_src})
        return out

    def _restore(self, saved: dict) -> None:
        """Put back a :meth:`_state` (arrays already checked for shape and dtype)."""
        for k, live in self._state().items():
            if isinstance(live, np.ndarray) and k != "learning.prev_src":
                np.copyto(live, saved[k])
        self.t, self.synaptic_events = int(saved["t"]), int(saved["synaptic_events"])
        if self.learning is not None:
            self.learning._prev_src = np.asarray(saved["learning.prev_src"], np.int64)

    def save_state(self, path) -> None:
        """Write a checkpoint (``loihi-state/1``, an ``.npz``, atomically); see :mod:`loihi_emu.runtime.state`."""
        save_state(self, path)

    def load_state(self, path) -> None:
        """Continue from a checkpoint written by :meth:`save_state` for the same image, seed and probes."""
        load_state(self, path)

    # ------------------------------------------------------------------ inputs
    def _input_schedule(self, steps: int, inputs) -> list[np.ndarray]:
        """Per step of this run, the external input axons that spike."""
        n_in = self.n_inputs
        empty = np.zeros(0, np.int64)
        if inputs is None:
            return [empty] * steps
        arr = np.asarray(inputs)
        dense = arr.ndim == 2 and (arr.dtype.kind == "b" or arr.dtype == np.uint8 or (arr.shape[1] != 2 and arr.size))
        if dense:
            if arr.shape != (steps, n_in):
                raise InputError(f"input spike array has shape {arr.shape}, expected [steps={steps}, n_axons={n_in}]")
            if arr.dtype.kind not in "biu":
                raise InputError(f"input spike array must be boolean or integer 0/1, got dtype {arr.dtype}")
            bad = np.argwhere((arr < 0) | (arr > 1))
            if bad.size:
                raise InputError(f"input spike array [{bad[0][0]}, {bad[0][1]}] = {arr[tuple(bad[0])]}: expected 0 or 1")
            return [np.flatnonzero(row).astype(np.int64) for row in arr]
        if arr.size == 0 or (arr.ndim == 2 and arr.shape[1] == 2):
            pairs = arr.reshape(-1, 2)
            if pairs.size and pairs.dtype.kind not in "iu":
                raise InputError(f"(step, axon) pairs must be integers, got dtype {pairs.dtype}")
            pairs = pairs.astype(np.int64)
            for col, name, hi in ((0, "step", steps), (1, "axon", n_in)):
                bad = (pairs[:, col] < 0) | (pairs[:, col] >= hi)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise InputError(
                        f"input pair {i} = (step {pairs[i, 0]}, axon {pairs[i, 1]}): {name} outside 0..{hi - 1}"
                    )
            pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
            bounds = np.searchsorted(pairs[:, 0], np.arange(steps + 1))
            return [np.unique(pairs[bounds[s] : bounds[s + 1], 1]) for s in range(steps)]
        raise InputError(
            f"inputs must be an array [steps={steps}, n_axons={n_in}] or (step, axon) pairs [k, 2]; got shape {arr.shape}"
        )

    def _program_inputs(self, steps: int) -> np.ndarray | None:
        """The image's input program for the next ``steps`` steps (None: none); warns once when the image
        has input axons that nothing drives."""
        prog = self.input_program
        if prog is not None and prog.active:
            return program_array(prog, self.t, self.t + steps)
        if self.n_inputs and steps and not getattr(self, "_warned_no_input", False):
            self._warned_no_input = True
            warnings.warn(f"the image has {self.n_inputs} input axons but this run gives them no input "
                          "(no inputs= and no input program in the image): they stay silent", InputWarning,
                          stacklevel=3)
        return None

    # ------------------------------------------------------------------ running
    def run(self, steps: int, inputs: np.ndarray | Sequence | None = None, progress: bool = False) -> None:
        """Advance ``steps`` steps. ``inputs``: spikes of external axons for
        these steps: a boolean or uint8 array ``[steps, n_axons]``, or integer
        ``(step, axon)`` pairs ``[k, 2]`` with steps counted from the start of
        this call (duplicates count once). None plays the image's input
        program (:mod:`loihi_emu.image.inputs`) from the current step."""
        steps, inputs = check_run(steps, inputs, progress, self.data.bytes_per_step())
        schedule = self._input_schedule(steps, self._program_inputs(steps) if inputs is None else inputs)
        bar = Progress(steps, enabled=progress)
        for s in range(steps):
            self._step(schedule[s])
            bar.update(s + 1)
        bar.close()

    def step(self, inputs: Iterable[int] | None = None) -> np.ndarray:
        """Advance one step; ``inputs`` lists the external axons spiking now.
        Returns the global indices of the compartments that spiked."""
        if inputs is None:
            prog = self._program_inputs(1)
            axons = np.zeros(0, np.int64) if prog is None else np.flatnonzero(prog[0]).astype(np.int64)
        else:
            axons = check_step_inputs(inputs)
        if axons.size and (axons.min() < 0 or axons.max() >= self.n_inputs):
            bad = int(axons[(axons < 0) | (axons >= self.n_inputs)][0])
            raise InputError(f"input axon {bad} is outside 0..{self.n_inputs - 1}")
        return self._step(np.unique(axons))

    def _step(self, in_axons: np.ndarray) -> np.ndarray:
        net, n, t = self.net, self.net.n, self.t
        wraps_before = self._wraps.copy()
        lrn = self.learning
        state: dict[str, np.ndarray] = {}
        if lrn is not None:
            lrn.before_update(t)
            if self._want_traces:
                state.update({k: v.copy() for k, v in lrn.traces().items()})
            lrn.decay()
        elif self._want_traces:
            state.update(self._learning_state("traces"))
        k, events = self._run_step(self.arrays, t, in_axons)
        src = self.arrays.src_buf[:k]
        spike_idx = src[in_axons.shape[0] :] - net.n_in
        src, more = self._exchange(t, src, spike_idx)
        events += more
        if lrn is not None:
            events += lrn.deliver(src, self._ring, slot_base(t, net.n_slots, n))
        if self.strict and (self._wraps != wraps_before).any():
            self._raise_wrap(t)
        self.synaptic_events += int(events)
        if self._recording:
            state.update({"spikes": self._spiked, "u": self.u, "v": self.v})
            if self._want_synapses:
                state.update(self._learning_state("synapses"))
            self.data.record(t, state, spike_idx)
        self.t = t + 1
        return spike_idx

    def _exchange(self, t: int, src: np.ndarray, spike_idx: np.ndarray) -> tuple[np.ndarray, int]:
        """Hook between the step kernel and plastic delivery: (this step's sources, extra synaptic events).
        One process has nothing to exchange; the distributed emulator delivers its remote sources here."""
        return src, 0

    def _raise_wrap(self, t: int) -> None:
        bits = {"q": self.spec.q_bits, "u": self.spec.u_bits, "u2": self.spec.u_bits}
        for k, name in enumerate(WRAP_NAMES):
            g = int(self._first_wrap[k, 0])
            if g >= 0:
                net = self.net
                raise WrapError(
                    name, t, int(net.chip[g]), int(net.core[g]), int(net.local[g]), g,
                    int(self._first_wrap[k, 1]), bits[name],
                )
