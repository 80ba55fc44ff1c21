"""The two expansions behind the energy counts, each as a numba kernel and a numpy twin.

Both take every spike of a run as parallel arrays ``ev_t`` (step) and
``ev_s`` (source: input ``i``, compartment ``n_in + g``) and expand it over a
CSR by source; both versions give identical results (tests/test_energy_kernels.py).

* ``route_events``: over the routes of each spike, adds to ``out`` int64
  ``[6, steps, rows]``: messages (at the sender), messages received, synapses
  read (at the receiver), east-west hops, north-south hops, chip hops (at the sender).
* ``mark_received``: over the synapses of each spike, sets
  ``received[t + 1 + delay, target]`` (steps past the run are dropped).
"""

from __future__ import annotations

import numba
import numpy as np

CHUNK = 1 << 22  # items the numpy twins expand at once (bounds their temporaries)
ROUTE_OUT = ("messages", "messages_in", "synaptic_events", "ew_hops", "ns_hops", "chip_hops")


def _expand(ptr: np.ndarray, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For events of sources ``src``: (event index, item index) of every CSR item each source owns."""
    lo, cnt = ptr[src], ptr[src + 1] - ptr[src]
    ev = np.repeat(np.arange(src.size, dtype=np.int64), cnt)
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]]).astype(np.int64)
    return ev, np.repeat(lo - start, cnt) + np.arange(int(cnt.sum()), dtype=np.int64)


def _chunks(ptr: np.ndarray, src: np.ndarray):
    """(lo, hi) slices of the events, each expanding to about CHUNK items at most."""
    if src.size == 0:
        return
    load = np.cumsum(ptr[src + 1] - ptr[src])
    cut = np.searchsorted(load, np.arange(CHUNK, int(load[-1]) + CHUNK, CHUNK))
    lo = 0
    for hi in np.unique(np.append(np.minimum(cut + 1, src.size), src.size)):
        if hi > lo:
            yield lo, int(hi)
            lo = int(hi)


def route_events_numpy(ev_t, ev_s, r_ptr, r_from, r_to, r_syn, r_ew, r_ns, r_chip, out) -> None:
    steps, rows = out.shape[1], out.shape[2]
    for lo, hi in _chunks(r_ptr, ev_s):
        e, r = _expand(r_ptr, ev_s[lo:hi])
        t = ev_t[lo:hi][e]
        for k, (row, w) in enumerate(((r_from, None), (r_to, None), (r_to, r_syn), (r_from, r_ew), (r_from, r_ns),
                                      (r_from, r_chip))):
            flat = np.bincount(t * rows + row[r], weights=None if w is None else w[r].astype(np.float64),
                               minlength=steps * rows)
            out[k] += np.rint(flat).astype(np.int64).reshape(steps, rows)


def mark_received_numpy(ev_t, ev_s, s_ptr, s_tgt, s_delay, received) -> None:
    steps = received.shape[0]
    for lo, hi in _chunks(s_ptr, ev_s):
        e, s = _expand(s_ptr, ev_s[lo:hi])
        lands = ev_t[lo:hi][e] + 1 + s_delay[s]
        keep = lands < steps
        received[lands[keep], s_tgt[s][keep]] = True


@numba.njit(cache=True, nogil=True)
def route_events_numba(ev_t, ev_s, r_ptr, r_from, r_to, r_syn, r_ew, r_ns, r_chip, out) -> None:
    for i in range(ev_s.size):
        t, s = ev_t[i], ev_s[i]
        for r in range(r_ptr[s], r_ptr[s + 1]):
            a, b = r_from[r], r_to[r]
            out[0, t, a] += 1
            out[1, t, b] += 1
            out[2, t, b] += r_syn[r]
            out[3, t, a] += r_ew[r]
            out[4, t, a] += r_ns[r]
            out[5, t, a] += r_chip[r]


@numba.njit(cache=True, nogil=True)
def mark_received_numba(ev_t, ev_s, s_ptr, s_tgt, s_delay, received) -> None:
    steps = received.shape[0]
    for i in range(ev_s.size):
        t, s = ev_t[i], ev_s[i]
        for k in range(s_ptr[s], s_ptr[s + 1]):
            land = t + 1 + s_delay[k]
            if land < steps:
                received[land, s_tgt[k]] = True


KERNELS = {"numba": (route_events_numba, mark_received_numba), "numpy": (route_events_numpy, mark_received_numpy)}
