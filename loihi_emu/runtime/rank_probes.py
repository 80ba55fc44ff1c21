"""Probes of a distributed run: each rank records its own part, rank 0 gets the whole.

A probe is resolved once against the global numbering (the same on every
rank). Each rank then records, for the columns it holds, the local indices
(:func:`local_probes`); :class:`GatheredData` reduces the new rows to rank 0
after every ``run``/``step``: every column is held by exactly one rank
(compartments, plastic synapses: others add 0) or by several ranks that hold
the same value (the x traces of a source that several ranks receive: others
give -1, "off", and rank 0 takes the maximum, as traces are >= 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import ProbeError
from loihi_emu.runtime.probes import Probe, ProbeData, axis_of


@dataclass
class Column:
    """Where one probe's columns come from: ``local`` (local index) fills global column ``pos``."""

    key: str
    width: int
    pos: np.ndarray
    fill: int


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions j in ``wanted`` found in ``sorted_keys``, ``values`` at them)."""
    if sorted_keys.size == 0 or wanted.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, wanted), sorted_keys.size - 1)
    hit = sorted_keys[at] == wanted
    return np.flatnonzero(hit), values[at[hit]]


def local_probes(glob: list[tuple[Probe, np.ndarray | None]], sizes: Mapping[str, int], maps) -> tuple[list, list]:
    """The local probes of this rank and their :class:`Column` plan.

    maps: ``compartment`` (sorted global ids, local ids), ``source`` (same for
    sources), ``synapse`` (same for plastic synapses), each a pair of arrays.
    """
    probes, plan = [], []
    for p, idx in glob:
        axis = axis_of(p.quantity)
        width = sizes[p.quantity] if idx is None else idx.size
        wanted = np.arange(width, dtype=np.int64) if idx is None else idx
        keys, vals = maps[axis]
        pos, local = _lookup(keys, vals, wanted)
        probes.append(Probe(p.quantity, tuple(local.tolist()), p.every, p.key))
        plan.append(Column(p.key, width, pos, -1 if axis == "source" else 0))
    return probes, plan


class GatheredData(Mapping):
    """The probe data of a distributed run: recorded per rank, merged on rank 0 by :meth:`sync` (collective).

    On other ranks the mapping is empty-handed: indexing it raises :class:`ProbeError`.
    """

    def __init__(self, local: ProbeData, plan: list[Column], glob, local_g: np.ndarray, comm) -> None:
        self.local, self._plan, self._glob, self._g, self._comm = local, plan, glob, local_g, comm
        self.quantities, self.has_events = local.quantities, local.has_events
        self._done = {c.key: 0 for c in plan}
        self._ev_done = 0
        self._chunks: dict[str, list[np.ndarray]] = {c.key: [] for c in plan}
        self._events: list[np.ndarray] = []

    @property
    def probes(self) -> list:
        """The (probe, global index array or None) pairs, as :attr:`ProbeData.probes`."""
        return list(self._glob)

    def record(self, t: int, state, spike_idx) -> None:
        self.local.record(t, state, spike_idx)

    def bytes_per_step(self) -> int:
        """Bytes this rank's recording grows by per step (the run's allocation check)."""
        return self.local.bytes_per_step()

    def sync(self) -> None:
        """Reduce the rows recorded since the last call to rank 0 (every rank must call it)."""
        from mpi4py import MPI

        comm, root = self._comm, self._comm.Get_rank() == 0
        for c in self._plan:
            arr = self.local[c.key]
            new = arr[self._done[c.key]:]
            self._done[c.key] = arr.shape[0]
            full = np.full((new.shape[0], c.width), c.fill, np.int32)
            full[:, c.pos] = new
            out = np.empty_like(full) if root else None
            comm.Reduce(full, out, op=MPI.MAX if c.fill < 0 else MPI.SUM, root=0)
            if root:
                self._chunks[c.key].append(out.astype(arr.dtype, copy=False))
        if self.has_events:
            ev = self.local["spike_events"][self._ev_done:]
            self._ev_done += ev.shape[0]
            ev = np.stack([ev[:, 0], self._g[ev[:, 1]]], axis=1) if ev.size else ev
            parts = comm.gather(ev, root=0)
            if root:
                allev = np.concatenate(parts)
                self._events.append(allev[np.lexsort((allev[:, 1], allev[:, 0]))])

    def __getitem__(self, key: str) -> np.ndarray:
        if self._comm.Get_rank() != 0:
            raise ProbeError(f"probe {key!r}: a distributed run gathers its probes on rank 0 only")
        if key == "spike_events" and self.has_events:
            return np.concatenate(self._events) if self._events else np.zeros((0, 2), np.int64)
        col = next((c for c in self._plan if c.key == key), None)
        if col is None:
            raise KeyError(key)
        ch = self._chunks[key]
        if ch:
            return np.concatenate(ch)
        return np.zeros((0, col.width), np.uint8 if self.local[key].dtype == np.uint8 else np.int32)

    def __iter__(self):
        yield from (c.key for c in self._plan)
        if self.has_events:
            yield "spike_events"

    def __len__(self) -> int:
        return len(self._plan) + int(self.has_events)
