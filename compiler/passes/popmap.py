"""The population map the compiler writes into a board image (:mod:`loihi_emu.image.popmap`)."""

from __future__ import annotations

import numpy as np

from compiler.network.model import Network
from loihi_emu.image.core import Image
from loihi_emu.image.popmap import SCALE_KEYS, PopulationEntry, PopulationMap
from loihi_emu.learning.flat import flatten_learning


def population_map(net: Network, scales: dict[str, float], image: Image) -> PopulationMap:
    """Names, ranges and scales (v units per model unit, the same for v, u, bias and incoming weights)
    of every population of ``net``, and the plastic synapses of ``image`` in the emulator's stable order."""
    entries = [PopulationEntry(name, "compartments", start, size, {k: float(scales[name]) for k in SCALE_KEYS})
               for name, (start, size) in net.compartment_ranges().items()]
    entries += [PopulationEntry(name, "input", start, size) for name, (start, size) in net.input_axons().items()]
    flat = flatten_learning(image) if any(p.plastic for p in net.projections) else None
    if flat is None:
        src = tgt = np.zeros(0, np.int64)
    else:
        src = np.where(flat.pl_pre < flat.n_src, flat.pl_pre, -1).astype(np.int64)
        tgt = flat.pl_post.astype(np.int64)
    return PopulationMap(tuple(entries), net.n_compartments, net.n_inputs, src, tgt)
