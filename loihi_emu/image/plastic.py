"""The plastic synapses of an image in the *stable synapse order*.

Order: by source (global source index: input ``i`` is ``i``, compartment ``g``
is ``n_in + g``; synapses on a row that no route reaches come last, with
source ``n_src``), then by global target compartment, then by position
within the row. It does not depend on how compartments are placed on cores;
``Probe("w")``, the population map and the stochastic-rounding ids use it,
and :mod:`loihi_emu.learning.flat` builds the learning tables over it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.image.core import Image


@dataclass(frozen=True)
class PlasticSynapses:
    """int64 [P] per plastic synapse, in the stable order.

    pre: global source (``n_src`` when no route reaches its row); post: global
    target compartment; core: position of its core in ``image.cores``; syn:
    its index in that core's synapse table; pos: its position within its row.
    """

    pre: np.ndarray
    post: np.ndarray
    core: np.ndarray
    syn: np.ndarray
    pos: np.ndarray
    n_src: int

    @property
    def n(self) -> int:
        return self.pre.size


def plastic_synapses(image: Image) -> PlasticSynapses:
    """Every plastic synapse of ``image``, in the stable order (ImageError for a plastic row of several sources)."""
    cores = image.cores
    n_src = image.n_inputs + image.n_compartments
    row_off = np.zeros(len(cores) + 1, np.int64)
    parts = []
    for k, c in enumerate(cores):
        row_off[k + 1] = row_off[k] + c.synapses.n_axons
        ft, st = c.formats, c.synapses
        if not ft.n or not ft.plastic.any():
            continue
        sel = np.flatnonzero(ft.plastic[st.fmt.astype(np.intp)])
        axon = st.axon_of_synapse()[sel]
        parts.append((np.full(sel.size, k, np.int64), sel.astype(np.int64), row_off[k] + axon,
                      (sel - st.axon_ptr[axon]).astype(np.int64),
                      c.compartments.global_index[st.target[sel].astype(np.intp)].astype(np.int64)))
    if not parts:
        z = np.zeros(0, np.int64)
        return PlasticSynapses(z, z, z, z, z, n_src)
    core, syn, row, pos, post = (np.concatenate(a) for a in zip(*parts))
    # the source of every plastic row; a row reached by several sources is ambiguous
    r_src, r_row = image.route_pairs(row_off)
    rows, row_inv = np.unique(row, return_inverse=True)
    r_order = np.argsort(r_row, kind="stable")
    sorted_rows = r_row[r_order]
    lo = np.searchsorted(sorted_rows, rows, side="left")
    hi = np.searchsorted(sorted_rows, rows, side="right")
    if (hi - lo > 1).any():
        i = int(np.flatnonzero(hi - lo > 1)[0])
        k = int(np.searchsorted(row_off, rows[i], side="right") - 1)
        raise ImageError(
            f"{cores[k].label}input axon {int(rows[i] - row_off[k])} holds plastic synapses and is reached by "
            f"{int(hi[i] - lo[i])} sources; a plastic row takes one source (its presynaptic trace is that source's)"
        )
    src_of_row = np.full(rows.size, n_src, np.int64)
    reached = hi > lo
    src_of_row[reached] = r_src[r_order][lo[reached]]
    pre = src_of_row[row_inv.ravel()]
    order = np.lexsort((pos, post, pre))
    return PlasticSynapses(pre[order], post[order], core[order], syn[order], pos[order], n_src)
