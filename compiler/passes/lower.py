"""Lowering: quantized registers, synapses and a core assignment -> board image.

Goes through :func:`loihi_emu.image.build.build_image` with the global numbering of
:mod:`compiler.network.model` (sources: external input axon ``a``, or
``n_in + g`` for compartment g), per-synapse weight bits, exponent and sign
mode from the projection's format. build_image makes the routing tables:
one input axon per distinct source per core, one output axon per
(compartment, destination core).

Learning: every plastic projection's (rule, traces, epoch, rounding) is a
:class:`~loihi_emu.image.profiles.LearningProfile`; projections with
identical settings share one (:meth:`QuantizedNetwork.learning_profiles`).
``syn_learning`` gives each synapse its profile (-1: static) and build_image
puts on each core the profiles its plastic synapses follow. Since a core's
rows are one per (source, core), a row of plastic synapses always has exactly
one source, as the learning engine requires.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from compiler.network.noise import noise_registers
from compiler.passes.partition import CHUNK, SynapseIndex
from compiler.passes.quantize import QuantizedNetwork
from loihi_emu.hw import HardwareSpec
from loihi_emu.image.build import COMPARTMENT_FIELDS, core_tables, finish_image
from loihi_emu.image.core import Image


def _per_synapse(net, values: list, dtype, order: np.ndarray) -> np.ndarray | int:
    """One value per projection -> a scalar if all agree, else one per synapse (in ``order``)."""
    if len(set(values)) <= 1:
        return int(values[0]) if values else 0
    return np.repeat(np.asarray(values, dtype), [p.n for p in net.projections])[order]


def lower(net, q: QuantizedNetwork, syn: SynapseIndex, core_of: np.ndarray, spec: HardwareSpec) -> Image:
    """The board image of ``net`` with compartment g on global core ``core_of[g]``."""
    regs = {f: np.concatenate([getattr(p, f) for p in q.populations]) for f in COMPARTMENT_FIELDS}
    if any(p.noisy for p in net.populations):  # docs/noise.md; absent fields mean no noise
        noise = [noise_registers(p, spec) for p in net.populations]
        regs.update({f: np.concatenate([d[f] for d in noise]) for f in noise[0]})
    joins = net.join_registers() if hasattr(net, "join_registers") else None
    if joins is not None:  # docs/dendrites.md; absent fields mean every compartment is a root
        regs["join_op"], regs["join_parent"] = joins
    projs = net.projections
    # SynapseIndex holds the synapses sorted by target; put the per-projection arrays in that order too
    order = syn.order
    wmant = np.concatenate([pw.wmant for pw in q.projections])[order] if projs else np.zeros(0, np.int16)
    delays = [p.delay for p in projs]
    if all(not isinstance(d, np.ndarray) for d in delays):
        delay = _per_synapse(net, delays, np.int64, order)
    else:
        delay = np.concatenate([p.delays() for p in projs])[order]
    profiles, prof_of = q.learning_profiles()
    fmt = {
        "syn_wexp": (np.concatenate([pw.exponents() for pw in q.projections])[order]
                     if any(pw.wexp is not None for pw in q.projections)
                     else _per_synapse(net, [pw.weight_exp for pw in q.projections], np.int8, order)),
        "syn_weight_bits": _per_synapse(net, [pw.weight_bits for pw in q.projections], np.uint8, order),
        "syn_sign_mode": _per_synapse(net, [pw.sign_mode for pw in q.projections], np.uint8, order),
        "syn_learning": _per_synapse(net, prof_of, np.int16, order) if profiles else -1,
    }
    del order
    syn.release_planning()
    laid = core_tables(regs, core_of, n_in=net.n_inputs, syn_pre=syn.src, syn_post=syn.post, syn_wmant=wmant,
                       syn_delay=delay, spec=spec, learning_profiles=profiles, **fmt)
    # memory: the per-synapse inputs go before the routes are made (the caller keeps ``syn`` for nothing else)
    del wmant, delay, fmt
    syn.src = syn.post = None
    return finish_image(laid)


@dataclass(frozen=True)
class RouteStats:
    """Where spikes travel.

    Routes (output axons; one per compartment and destination core):
    ``intra_core`` back to the own core, ``inter_core`` to another core of the
    same chip, ``inter_chip`` to another chip; ``input_routes`` from external
    input axons. Synapses: how many compartment-to-compartment synapses cross
    a core boundary (``synapses_inter_core``, any chip) and a chip boundary.
    """

    intra_core: int
    inter_core: int
    inter_chip: int
    input_routes: int
    synapses_local: int
    synapses_inter_core: int
    synapses_inter_chip: int

    def to_dict(self) -> dict:
        return asdict(self)


def synapse_crossings(syn: SynapseIndex, core_of: np.ndarray, spec: HardwareSpec) -> tuple[int, int, int]:
    """Compartment-to-compartment synapses (within a core, crossing cores, crossing chips)."""
    local = cross = chip_cross = 0
    for s0 in range(0, syn.src.size, CHUNK):  # memory: temporaries of one chunk of synapses
        src, post = syn.src[s0 : s0 + CHUNK], syn.post[s0 : s0 + CHUNK]
        from_comp = src >= syn.n_in
        a = core_of[src[from_comp] - syn.n_in]
        b = core_of[post[from_comp]]
        c = a != b
        local += int((~c).sum())
        cross += int(c.sum())
        chip_cross += int(((a // spec.cores_per_chip) != (b // spec.cores_per_chip)).sum())
    return local, cross, chip_cross


def route_stats(image: Image, crossings: tuple[int, int, int]) -> RouteStats:
    """Count the image's routes by where they go; ``crossings`` from :func:`synapse_crossings`."""
    intra = inter_core = inter_chip = 0
    for c in image.cores:
        r = c.routes
        other_chip = r.dest_chip != c.chip
        same = ~other_chip & (r.dest_core == c.index)
        intra += int(same.sum())
        inter_chip += int(other_chip.sum())
        inter_core += int((~same & ~other_chip).sum())
    return RouteStats(intra, inter_core, inter_chip, image.inputs.n, *crossings)
