"""Assign whole chips to MPI ranks, balancing synapses and compartments.

A rank owns whole chips: it loads only their tables (``ImageStore.chip_cores``)
and runs their compartments. The assignment is a pure function of the chips'
sizes and the number of ranks, so every rank computes the same one without
talking to the others.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from loihi_emu.errors import LoihiError


class RankError(LoihiError):
    """A distributed run cannot start or continue (too few chips, a rank failed, no MPI)."""


def assign_chips(sizes: Mapping[int, Mapping[str, int]], n_ranks: int) -> dict[int, int]:
    """chip -> rank for ``n_ranks`` ranks.

    sizes: per chip, its ``"synapses"`` and ``"compartments"`` (as in
    ``ImageStore.sizes``). A chip's cost is its share of all synapses plus its
    share of all compartments; chips go, largest cost first (ties: lower chip
    number), to the rank with the least cost so far (ties: lower rank). Every
    rank gets at least one chip; fewer chips than ranks is a :class:`RankError`.
    """
    chips = sorted(int(c) for c in sizes)
    if n_ranks < 1:
        raise RankError(f"need at least one rank, got {n_ranks}")
    if len(chips) < n_ranks:
        raise RankError(f"the image has {len(chips)} chip(s), fewer than the {n_ranks} ranks: each rank owns whole "
                        f"chips, so run with at most {len(chips)} rank(s)")
    syn = np.array([sizes[c]["synapses"] for c in chips], np.float64)
    comp = np.array([sizes[c]["compartments"] for c in chips], np.float64)
    cost = syn / max(syn.sum(), 1.0) + comp / max(comp.sum(), 1.0)
    order = sorted(range(len(chips)), key=lambda i: (-cost[i], chips[i]))
    load = np.zeros(n_ranks)
    out: dict[int, int] = {}
    # the first n_ranks chips seed one rank each, so none stays empty
    for k, i in enumerate(order):
        r = k if k < n_ranks else int(np.argmin(load))
        out[chips[i]] = r
        load[r] += cost[i]
    return out


def image_sizes(image) -> dict[int, dict[str, int]]:
    """Per chip of an in-memory :class:`~loihi_emu.image.core.Image`: cores, compartments, synapses."""
    out: dict[int, dict[str, int]] = {}
    for c in image.cores:
        s = out.setdefault(c.chip, {"cores": 0, "compartments": 0, "synapses": 0})
        s["cores"] += 1
        s["compartments"] += c.compartments.n
        s["synapses"] += c.synapses.n
    return out
