"""Packing one step's spikes for the exchange between MPI ranks, as a numba kernel and its numpy twin.

Inputs: ``spikes`` int64 (local compartments that spiked, ascending);
``ptr`` int64 [n + 1] and ``peer`` int64 / ``val`` int64 (a CSR over local
compartments of the (peer rank, value) pairs a spike is sent as: the value is
the position of the compartment among the peer's remote sources). Output:
``counts`` int64 [n_ranks] values per peer and ``out`` [total] the values
grouped by peer (ascending rank), in spike order within a peer; returns total.
"""

from __future__ import annotations

import numba
import numpy as np


def pack_numpy(spikes: np.ndarray, ptr: np.ndarray, peer: np.ndarray, val: np.ndarray, counts: np.ndarray,
               out: np.ndarray) -> int:
    cnt = ptr[spikes + 1] - ptr[spikes]
    total = int(cnt.sum())
    counts[:] = 0
    if total:
        starts = np.repeat(ptr[spikes] - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
        j = starts + np.arange(total)
        order = np.argsort(peer[j], kind="stable")
        out[:total] = val[j][order]
        counts[:] = np.bincount(peer[j], minlength=counts.size)
    return total


@numba.njit(cache=True, nogil=True)
def pack_numba(spikes, ptr, peer, val, counts, out):  # pragma: no cover - jitted
    counts[:] = 0
    for i in range(spikes.shape[0]):
        s = spikes[i]
        for j in range(ptr[s], ptr[s + 1]):
            counts[peer[j]] += 1
    cursor = np.empty(counts.shape[0], np.int64)
    acc = 0
    for r in range(counts.shape[0]):
        cursor[r] = acc
        acc += counts[r]
    for i in range(spikes.shape[0]):
        s = spikes[i]
        for j in range(ptr[s], ptr[s + 1]):
            q = peer[j]
            out[cursor[q]] = val[j]
            cursor[q] += 1
    return acc


PACK = {"numba": pack_numba, "numpy": pack_numpy}
