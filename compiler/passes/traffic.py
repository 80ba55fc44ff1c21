"""Interchip spike traffic: expected spike messages per step that cross a chip boundary, and their mesh hops.

Every output axon (route) of a compartment carries one message per spike of
that compartment; a route whose destination is on another chip crosses the
mesh. The estimate multiplies each route by the expected rate of its source
(spikes per step) and, for hops, by the Manhattan distance between the two
chips on a mesh of chips laid out row-major ``ceil(sqrt(chips))`` wide.

Rates: an external input's from its data where the network knows it (a
``RateEncoder``'s intensities, or the mean of a spike array); compartments
and other inputs are assumed to fire at ``rate`` spikes per step (default
:data:`DEFAULT_RATE`), since their rate is only known by running the network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import Image

DEFAULT_RATE = 0.05  # spikes per step assumed for a compartment


@dataclass(frozen=True)
class TrafficEstimate:
    """Expected interchip traffic (messages per step; hops: chip-to-chip mesh links crossed per step).

    rate: the rate assumed for compartments (spikes per step); routes: routes
    crossing a chip boundary (from compartments and from external inputs);
    messages / hop_messages: expected messages per step crossing a chip
    boundary, and the same weighted by mesh hops; max_hops: the longest
    interchip route in hops; mesh_width: chips per mesh row.
    """

    rate: float
    routes: int
    messages: float
    hop_messages: float
    max_hops: int
    mesh_width: int

    def to_dict(self) -> dict:
        return asdict(self)

    def to_text(self) -> str:
        return (f"interchip traffic: {self.routes} routes cross a chip boundary; expected {self.messages:.3g} "
                f"messages/step, {self.hop_messages:.3g} message-hops/step (longest {self.max_hops} hops on a "
                f"mesh {self.mesh_width} chips wide; compartments assumed at {self.rate:g} spikes/step)")


def input_rates(net, rate: float = DEFAULT_RATE) -> np.ndarray:
    """Expected spikes per step of every external input axon (float64 [n_inputs])."""
    out = np.full(net.n_inputs, float(rate))
    for name, (first, size) in net.input_axons().items():
        inp = net.population(name)
        enc = getattr(inp, "encoder", None)
        if enc is not None and hasattr(enc, "intensity"):
            out[first : first + size] = np.broadcast_to(np.asarray(enc.intensity, np.float64), (size,))
        elif getattr(inp, "spikes", None) is not None and inp.spikes.size:
            out[first : first + size] = np.asarray(inp.spikes, np.float64).mean(axis=0)
    return out


def _hops(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    return np.abs(a // width - b // width) + np.abs(a % width - b % width)


def traffic_estimate(net, image: Image, spec: HardwareSpec, rate: float = DEFAULT_RATE) -> TrafficEstimate:
    """Expected interchip traffic of ``image`` (see the module docstring)."""
    chips = max((c.chip for c in image.cores), default=0) + 1
    width = int(np.ceil(np.sqrt(chips)))
    routes = messages = hop_messages = 0.0
    max_hops = 0
    sources = [(image.inputs, input_rates(net, rate), None)]
    sources += [(c.routes, np.full(c.routes.n_sources, float(rate)), c.chip) for c in image.cores]
    for r, rates, chip in sources:
        if r.n == 0:
            continue
        per_route = np.repeat(rates, np.diff(r.ptr))
        if chip is None:  # external inputs enter at chip 0
            own = np.zeros(r.n, np.int64)
        else:
            own = np.full(r.n, chip, np.int64)
        dest = r.dest_chip.astype(np.int64)
        cross = dest != own
        h = _hops(own, dest, width)
        routes += int(cross.sum())
        messages += float(per_route[cross].sum())
        hop_messages += float((per_route * h).sum())
        max_hops = max(max_hops, int(h.max()))
    return TrafficEstimate(float(rate), int(routes), messages, hop_messages, max_hops, width)
