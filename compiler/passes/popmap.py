"""The population map the compiler writes into a board image (:mod:`loihi_emu.image.popmap`)."""

from __future__ import annotations

import numpy as np

from compiler.network.model import Network
from loihi_emu.image.core import Image
from loihi_emu.image.plastic import plastic_synapses
from loihi_emu.image.popmap import SCALE_KEYS, PopulationEntry, PopulationMap


def population_map(net: Network, scales: dict[str, float], image: Image,
                   compartment_scale: np.ndarray | None = None) -> PopulationMap:
    """Names, ranges and scales (v units per model unit, the same for v, u, bias and incoming weights)
    of every population of ``net``, and the plastic synapses of ``image`` in the emulator's stable order."""
    entries = [PopulationEntry(name, "compartments", start, size, {k: float(scales[name]) for k in SCALE_KEYS})
               for name, (start, size) in net.compartment_ranges().items()]
    entries += [PopulationEntry(name, "input", start, size) for name, (start, size) in net.input_axons().items()]
    ps = plastic_synapses(image)
    src, tgt = np.where(ps.pre < ps.n_src, ps.pre, -1), ps.post
    return PopulationMap(tuple(entries), net.n_compartments, net.n_inputs, src, tgt, compartment_scale)
