"""What the emulator records: probe specifications and the recorded data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import ProbeError
from loihi_emu.image.core import SOURCE_TRACES, TRACES

COMPARTMENT_QUANTITIES = ("spikes", "u", "v", "y1", "y2", "y3")
SOURCE_QUANTITIES = SOURCE_TRACES
SYNAPSE_QUANTITIES = ("w", "wmant", "delay", "tag")
TRACE_QUANTITIES = TRACES
QUANTITIES = COMPARTMENT_QUANTITIES + SOURCE_QUANTITIES + SYNAPSE_QUANTITIES


@dataclass(frozen=True)
class Probe:
    """Record ``quantity`` of some compartments, sources or plastic synapses.

    Per compartment: 'spikes', 'u', 'v' (end of step), 'y1', 'y2', 'y3'
    (postsynaptic traces). Per source (input ``i`` is ``i``, compartment
    ``g`` is ``n_in + g``): 'x1', 'x2'. Traces are sampled after the
    step's impulses and before its decay (the values the rule reads); -1
    where a trace is off (no plastic synapse uses it). Per plastic synapse,
    in the stable synapse order of :meth:`Emulator.plastic_synapses`, at the
    end of the step: 'w' (effective weight, ``floor(wmant * 2^wexp) * 64``),
    'wmant' (mantissa), 'delay' (steps), 'tag'.

    compartments: indices into the quantity's axis (compartments, sources or
    plastic synapses), a selector naming a population of the image's
    population map (``"exc"``, ``"exc[0:10]"``, for plastic synapses also a
    projection ``"in->exc"``; see :mod:`loihi_emu.image.popmap`), or None for all.
    every: record every k-th step (steps t with t % every == every - 1, i.e.
    the last step of each group of k). Spike *events* are always recorded
    for every step.
    name: key in :attr:`Emulator.data` (default: the quantity).
    """

    quantity: str
    compartments: tuple[int, ...] | str | None = None
    every: int = 1
    name: str | None = None

    @property
    def key(self) -> str:
        return self.name or self.quantity


def axis_of(quantity: str) -> str:
    """The axis a quantity is recorded along: 'compartment', 'source' or 'synapse'."""
    return "source" if quantity in SOURCE_QUANTITIES else ("synapse" if quantity in SYNAPSE_QUANTITIES else "compartment")


def normalize_probes(
    probes: Iterable[str | Probe], n: int, sizes: Mapping[str, int] | None = None, populations=None,
) -> list[tuple[Probe, np.ndarray | None]]:
    """Check probes against an image of ``n`` compartments; return (probe, index array).

    sizes: length of each quantity's axis (default ``n`` for every quantity).
    populations: the image's :class:`~loihi_emu.image.popmap.PopulationMap`,
    which resolves probes whose ``compartments`` is a selector string.
    """
    out, keys = [], set()
    for p in probes:
        if isinstance(p, str):
            p = Probe(p)
        if not isinstance(p, Probe):
            raise ProbeError(f"probe {p!r} is neither a quantity name nor a Probe")
        if p.quantity not in QUANTITIES:
            raise ProbeError(f"probe {p.key!r}: unknown quantity {p.quantity!r}; known: {', '.join(QUANTITIES)}")
        if not isinstance(p.quantity, str) or (p.name is not None and not isinstance(p.name, str)):
            raise ProbeError(f"probe {p!r}: quantity and name must be strings")
        if isinstance(p.every, bool) or not isinstance(p.every, (int, np.integer)) or p.every < 1:
            raise ProbeError(f"probe {p.key!r}: every must be a positive integer, got {p.every!r}")
        if p.key in keys:
            raise ProbeError(f"two probes are named {p.key!r}; give one a name=")
        keys.add(p.key)
        idx = None
        if isinstance(p.compartments, str):
            if populations is None:
                raise ProbeError(f"probe {p.key!r}: selector {p.compartments!r} needs a population map, which this "
                                 "image lacks (a loihi-image/1 file or a hand-built image); give indices")
            try:
                p = Probe(p.quantity, tuple(populations.select(p.compartments, axis_of(p.quantity)).tolist()),
                          p.every, p.key)
            except ProbeError as exc:
                raise ProbeError(f"probe {p.key!r}: {exc}") from None
        if p.compartments is not None:
            size = (sizes or {}).get(p.quantity, n)
            what = "source" if p.quantity in SOURCE_QUANTITIES else (
                "plastic synapse" if p.quantity in SYNAPSE_QUANTITIES else "compartment")
            try:
                raw = np.asarray(p.compartments)
            except (TypeError, ValueError):
                raise ProbeError(f"probe {p.key!r}: compartments must be a list of whole numbers") from None
            if raw.size and raw.dtype.kind not in "iu":
                raise ProbeError(f"probe {p.key!r}: {what} indices must be whole numbers, got {raw.dtype} "
                                 f"({raw.reshape(-1)[:3].tolist()}...)")
            idx = raw.astype(np.int64).ravel()
            bad = (idx < 0) | (idx >= size)
            if bad.any():
                raise ProbeError(f"probe {p.key!r}: {what} {int(idx[bad][0])} is outside 0..{size - 1}")
        out.append((p, idx))
    return out


class ProbeData(Mapping):
    """Recorded arrays by probe key: ``[recorded steps, compartments]``.

    ``spike_events`` (when a spikes probe exists) is int64 ``[k, 2]`` of
    ``(step, global index)`` pairs for the probed compartments, every step.
    Spikes are uint8; other quantities ``value_dtype`` (int32 registers here,
    float64 in the compiler's float reference).
    """

    def __init__(
        self,
        probes: list[tuple[Probe, np.ndarray | None]],
        n: int,
        sizes: Mapping[str, int] | None = None,
        value_dtype: type = np.int32,
    ) -> None:
        self._probes = probes
        self._value_dtype = value_dtype
        self._n = n
        self._sizes = dict(sizes or {})
        self.quantities = {p.quantity for p, _ in probes}
        self._chunks: dict[str, list[np.ndarray]] = {p.key: [] for p, _ in probes}
        self._events: list[np.ndarray] = []
        self._event_filter: np.ndarray | None = None
        spike_probes = [(p, idx) for p, idx in probes if p.quantity == "spikes"]
        self.has_events = bool(spike_probes)
        if spike_probes and all(idx is not None for _, idx in spike_probes):
            mask = np.zeros(n, bool)
            for _, idx in spike_probes:
                mask[idx] = True
            self._event_filter = mask
        self._cache: dict[str, np.ndarray] = {}

    @property
    def probes(self) -> list[tuple[Probe, np.ndarray | None]]:
        """The (probe, global index array or None for all) pairs being recorded."""
        return list(self._probes)

    def bytes_per_step(self) -> int:
        """Bytes the recording grows by per step (upper bound: every probe's row, every step)."""
        total = 0
        for p, idx in self._probes:
            width = self._sizes.get(p.quantity, self._n) if idx is None else idx.size
            total += width * (1 if p.quantity == "spikes" else np.dtype(self._value_dtype).itemsize)
        return total

    def export(self) -> dict[str, np.ndarray]:
        """Everything recorded so far, by key (as :meth:`__getitem__` gives it), for checkpoints."""
        return {k: self[k] for k in self}

    def restore(self, saved: dict[str, np.ndarray]) -> None:
        """Replace the recording with ``saved`` (from :meth:`export`, shapes checked by the caller)."""
        for p, _ in self._probes:
            self._chunks[p.key] = list(saved[p.key])
        if self.has_events:
            ev = saved["spike_events"]
            self._events = [ev] if ev.size else []
        self._cache.clear()

    def record(self, t: int, state: dict[str, np.ndarray], spike_idx: np.ndarray) -> None:
        """Record step ``t`` (absolute) from ``state`` (quantity -> array over its axis)."""
        for p, idx in self._probes:
            if (t + 1) % p.every:
                continue
            arr = state[p.quantity]
            self._chunks[p.key].append(arr.copy() if idx is None else arr[idx])
        if self.has_events and spike_idx.size:
            sel = spike_idx if self._event_filter is None else spike_idx[self._event_filter[spike_idx]]
            if sel.size:
                ev = np.empty((sel.size, 2), np.int64)
                ev[:, 0] = t
                ev[:, 1] = sel
                self._events.append(ev)
        self._cache.clear()

    def __getitem__(self, key: str) -> np.ndarray:
        if key in self._cache:
            return self._cache[key]
        if key == "spike_events" and self.has_events:
            arr = np.concatenate(self._events) if self._events else np.zeros((0, 2), np.int64)
        elif key in self._chunks:
            chunks = self._chunks[key]
            probe, idx = next((p, i) for p, i in self._probes if p.key == key)
            width = self._sizes.get(probe.quantity, self._n) if idx is None else idx.size
            dtype = np.uint8 if probe.quantity == "spikes" else self._value_dtype
            arr = np.stack(chunks).astype(dtype, copy=False) if chunks else np.zeros((0, width), dtype)
        else:
            raise KeyError(key)
        self._cache[key] = arr
        return arr

    def __iter__(self):
        yield from self._chunks
        if self.has_events:
            yield "spike_events"

    def __len__(self) -> int:
        return len(self._chunks) + int(self.has_events)
