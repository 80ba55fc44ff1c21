"""The emulator on several MPI ranks, bit-identical to one process.

``Emulator(image_or_path, comm=MPI.COMM_WORLD)`` (or :class:`DistributedEmulator`)
on every rank of ``comm``. Each rank owns whole chips
(:mod:`loihi_emu.runtime.partition_ranks`), reads only those and runs an
ordinary :class:`~loihi_emu.runtime.emulator.Emulator` over its sub-image
(:mod:`loihi_emu.runtime.rank_image`), where compartments of other ranks that
reach its cores are extra input axons.

Step t on every rank: the ordinary step kernel (update, then delivery of the
local sources); then **one exchange**: each rank sends each peer the global
indices of its compartments that spiked in step t and have routes to that
peer (``Alltoall`` of one (count, status) pair per peer, then ``Alltoallv`` of
the indices); then the received sources are delivered like local ones, into
ring slot ``t + 1 + delay``, and go to the learning engine with the local
sources. So a remote spike of step t acts in step t + 1 + delay, as a local one.

The status word carries a rank's failure (a strict wrap) to all ranks in the
same step, so every rank stops with an error instead of waiting. Start-up
errors (too few chips, an unreadable file on one rank, a bad probe) are
agreed on by all ranks before any per-step collective: every rank raises
:class:`~loihi_emu.runtime.partition_ranks.RankError` naming the failing rank.

Learning: a rank's plastic synapses are those of its cores; their x traces
follow their sources, local or remote. Every random draw of stochastic
rounding is keyed by a *global* id (source, compartment, stable plastic-synapse
index: ``LearningArrays.x_id``, ``y_id``, ``syn_id`` are set to them here), so
the bits are those of one process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

import numpy as np

from loihi_emu.image.core import Image
from loihi_emu.image.plastic import plastic_synapses
from loihi_emu.runtime.emulator import Emulator
from loihi_emu.runtime.exchange_kernels import PACK
from loihi_emu.runtime.kernels import _deliver_parallel, deliver_numba, deliver_numpy
from loihi_emu.runtime.partition_ranks import RankError
from loihi_emu.runtime.probes import SYNAPSE_QUANTITIES, Probe, normalize_probes
from loihi_emu.runtime.rank_image import (
    axon_replies,
    local_globals,
    own_chips,
    peer_values,
    remote_routes,
    sub_image,
)
from loihi_emu.runtime.rank_probes import GatheredData, local_probes

STATUS_OK, STATUS_FAILED = 0, 1


def agree(comm, fn: Callable, what: str):
    """Run ``fn()`` on every rank; when it fails on any rank, raise RankError on every rank (no hang)."""
    try:
        out, err = fn(), None
    except Exception as exc:  # noqa: BLE001 - any failure must reach the other ranks
        out, err = None, f"{type(exc).__name__}: {exc}"
    errors = comm.allgather(err)
    bad = [(r, e) for r, e in enumerate(errors) if e is not None]
    if bad:
        r, e = bad[0]
        raise RankError(f"{what} failed on rank {r} of {comm.Get_size()}: {e}")
    return out


class DistributedEmulator(Emulator):
    """An :class:`Emulator` over the chips of one rank of ``comm`` (module doc).

    image: an :class:`Image` (every rank holds it) or the path of a board
    image (each rank reads only its chips from a ``loihi-image/3`` file).
    Other arguments as :class:`Emulator`. Every method that advances time
    (``run``, ``step``) is collective. ``data`` (the probes, global numbering)
    is complete on rank 0 after each ``run``/``step``; ``step`` returns the
    global indices of the compartments of this rank that spiked.
    """

    def __init__(self, image: Image | str, seed: int = 0, probes: Iterable[str | Probe] = ("spikes",),
                 strict: bool = False, backend: str = "numba", n_threads: int | None = None, comm=None) -> None:
        if comm is None:
            raise RankError("DistributedEmulator needs an MPI communicator (comm=MPI.COMM_WORLD)")
        from mpi4py import MPI

        self._mpi = MPI
        self.comm = comm
        self.rank, self.n_ranks = comm.Get_rank(), comm.Get_size()
        own = agree(comm, lambda: own_chips(image, self.rank, self.n_ranks), "loading the image")
        local_g = local_globals(own)
        rr = agree(comm, lambda: remote_routes(own, local_g), "splitting the routes")
        incoming = comm.alltoall([x for x in rr.per_peer])
        part = agree(comm, lambda: sub_image(own, local_g, rr, incoming), "building the rank's sub-image")
        replies = comm.alltoall(axon_replies(incoming, part.remote_g))
        self._peer_val = agree(comm, lambda: peer_values(part, replies), "matching remote sources")
        self.part = part
        plastic = agree(comm, lambda: plastic_synapses(part.image), "ordering the plastic synapses")
        syn_g, n_plastic = self._global_plastic_order(plastic, part)
        n, n_in = part.n, part.n_in
        sizes = {"x1": n_in + n, "x2": n_in + n, **{q: n_plastic for q in SYNAPSE_QUANTITIES}}
        for q in ("spikes", "u", "v", "y1", "y2", "y3"):
            sizes[q] = n
        glob = agree(comm, lambda: normalize_probes(probes, n, sizes, own.populations), "checking the probes")
        n_loc, n_in_loc = part.local_g.size, n_in + part.remote_g.size
        src_g = np.concatenate([np.arange(n_in), n_in + part.remote_g, n_in + part.local_g]).astype(np.int64)
        maps = {"compartment": (part.local_g, np.arange(n_loc, dtype=np.int64))}
        order = np.argsort(src_g, kind="stable")
        maps["source"] = (src_g[order], order.astype(np.int64))
        order = np.argsort(syn_g, kind="stable")
        maps["synapse"] = (syn_g[order], order.astype(np.int64))
        lprobes, plan = local_probes(glob, sizes, maps)
        agree(comm, lambda: super(DistributedEmulator, self).__init__(part.image, seed, lprobes, strict, backend,
                                                                     n_threads), "loading the rank's emulator")
        assert self.net.n_in == n_in_loc
        self.input_program, self.populations = own.input_program, own.populations
        self._src_g, self._syn_g = src_g, syn_g
        if self.learning is not None:  # random draws keyed by global ids, as on one process
            la = self.learning.arrays
            la.x_id[:] = np.append(src_g, n_in + n)
            la.y_id[:] = part.local_g
            la.syn_id[:] = syn_g
        self.data = GatheredData(self.data, plan, glob, part.local_g, comm)
        self._recording = len(self.data) > 0
        a = self.arrays
        self._deliver = deliver_numpy if backend == "numpy" else (
            deliver_numba if a.indptr.shape[0] == 1 else _deliver_parallel)
        self._pack = PACK["numpy" if backend == "numpy" else "numba"]
        self._per = np.zeros(self.n_ranks, np.int64)
        self._send = np.zeros(max(part.peer_rank.size, 1), np.int64)
        self._send_counts = np.zeros((self.n_ranks, 2), np.int64)
        self._recv_counts = np.zeros((self.n_ranks, 2), np.int64)
        self._wraps_seen = self._wraps.copy()
        self._yield = os.environ.get("LOIHI_MPI_YIELD", "1") != "0"
        self.exchange_seconds = 0.0  # in the exchange hook (sorting, both collectives, remote delivery)
        self.comm_seconds = 0.0  # in the two collectives alone (latency, volume and waiting for peers)
        self.spikes_sent = 0

    def _global_plastic_order(self, plastic, part) -> tuple[np.ndarray, int]:
        """Every local plastic synapse's index in the global stable order, and the global count."""
        n_in, n_in_loc, n_src = part.n_in, part.n_in + part.remote_g.size, part.n_in + part.n
        pre = plastic.pre
        g_pre = np.where(pre < n_in, pre, 0)
        rem = (pre >= n_in) & (pre < n_in_loc)
        g_pre[rem] = n_in + part.remote_g[pre[rem] - n_in]
        loc = (pre >= n_in_loc) & (pre < plastic.n_src)
        g_pre[loc] = n_in + part.local_g[pre[loc] - n_in_loc]
        g_pre[pre == plastic.n_src] = n_src
        keys = np.stack([g_pre, part.local_g[plastic.post] if plastic.n else plastic.post, plastic.pos], axis=1)
        every = self.comm.gather(keys, root=0)
        if self.rank == 0:
            allk = np.concatenate(every)
            order = np.lexsort((allk[:, 2], allk[:, 1], allk[:, 0]))
            rank_of = np.empty(order.size, np.int64)
            rank_of[order] = np.arange(order.size)
            bounds = np.cumsum([0] + [k.shape[0] for k in every])
            parts = [rank_of[bounds[r]: bounds[r + 1]] for r in range(self.n_ranks)]
        else:
            parts = None
        mine = self.comm.scatter(parts, root=0)
        return mine, int(self.comm.allreduce(plastic.n))

    # ------------------------------------------------------------------ sizes (global numbering)
    @property
    def n_compartments(self) -> int:
        return self.part.n

    @property
    def n_inputs(self) -> int:
        return self.part.n_in

    def plastic_synapses(self) -> dict[str, np.ndarray] | None:
        """As :meth:`Emulator.plastic_synapses`, in global numbering and the global stable order, on rank 0
        (None on the other ranks; collective)."""
        mine = super().plastic_synapses()
        src = mine["source"]
        mine["source"] = np.where(src >= 0, self._src_g[np.maximum(src, 0)], -1)
        mine["target"] = self.part.local_g[mine["target"]]
        mine["order"] = self._syn_g
        parts = self.comm.gather(mine, root=0)
        if self.rank != 0:
            return None
        allp = {k: np.concatenate([p[k] for p in parts]) for k in mine}
        order = np.argsort(allp.pop("order"), kind="stable")
        return {k: v[order] for k, v in allp.items()}

    def total_spikes(self) -> int:
        """Spikes emitted so far by every rank (collective)."""
        return int(self.comm.allreduce(int(self.spike_counts.sum())))

    def total_synaptic_events(self) -> int:
        """Synaptic events so far on every rank (collective)."""
        return int(self.comm.allreduce(int(self.synaptic_events)))

    # ------------------------------------------------------------------ running
    def run(self, steps: int, inputs=None, progress: bool = False) -> None:
        super().run(steps, inputs, progress=progress and self.rank == 0)
        self.data.sync()

    def step(self, inputs=None) -> np.ndarray:
        spiked = super().step(inputs)
        self.data.sync()
        return self.part.local_g[spiked]

    def _wait(self, req) -> None:
        """Complete a collective, giving the core away between polls (``LOIHI_MPI_YIELD=0``: MPI's own
        busy-polling wait). MPICH busy-polls; on a shared or oversubscribed node that starves the very rank
        being waited for, while on idle cores ``sched_yield`` returns at once."""
        if not self._yield:
            req.Wait()
            return
        while not req.Test():
            os.sched_yield()

    def _exchange(self, t: int, src: np.ndarray, spike_idx: np.ndarray) -> tuple[np.ndarray, int]:
        t0 = time.perf_counter()
        part, MPI = self.part, self._mpi
        per, send = self._per, self._send
        total = int(self._pack(spike_idx, part.peer_ptr, part.peer_rank, self._peer_val, per, send))
        failed = self.strict and bool((self._wraps != self._wraps_seen).any())
        self._wraps_seen[:] = self._wraps
        sc, rc = self._send_counts, self._recv_counts
        sc[:, 0] = per
        sc[:, 1] = STATUS_FAILED if failed else STATUS_OK
        t1 = time.perf_counter()
        self._wait(self.comm.Ialltoall(sc, rc))
        recv = np.empty(int(rc[:, 0].sum()), np.int64)
        sd = np.concatenate([[0], np.cumsum(per)[:-1]])
        rd = np.concatenate([[0], np.cumsum(rc[:, 0])[:-1]])
        self._wait(self.comm.Ialltoallv([send[:total], (per, sd), MPI.INT64_T],
                                        [recv, (rc[:, 0].copy(), rd), MPI.INT64_T]))
        self.comm_seconds += time.perf_counter() - t1
        self.spikes_sent += total
        bad = np.flatnonzero(rc[:, 1] != STATUS_OK)
        if bad.size and not failed:
            raise RankError(f"rank {int(bad[0])} stopped in step {t} (a strict wrap); every rank stops")
        remote = recv + part.n_in  # local input axons of the remote sources
        events = 0
        if remote.size:
            self._deliver(self.arrays, t, remote)
            events = int(self.arrays.fanout[remote].sum())
            src = np.concatenate([src, remote])
        self.exchange_seconds += time.perf_counter() - t0
        return src, events


Emulator.DISTRIBUTED.append(DistributedEmulator)
