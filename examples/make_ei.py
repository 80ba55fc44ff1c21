"""Writes examples/ei.json (+ ei.npz): the E/I network of the README, as a network file.

    python examples/make_ei.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler import Network, RateEncoder
from compiler.network.netfile import save_network


def ei_network() -> Network:
    """100 rate inputs -> 80 excitatory <-> 20 inhibitory compartments (the README's network)."""
    net = Network("ei")
    net.add_input("in", encoder=RateEncoder(0.05, size=100, seed=1))
    net.add_population("exc", 80, tau_u=5, tau_v=20, vth=1.0, refractory=2, vmin=-1.0)
    net.add_population("inh", 20, tau_u=5, tau_v=10, vth=1.0, vmin=-1.0)
    rng = np.random.default_rng(0)
    sparse = lambda shape, p, hi: rng.uniform(0, hi, shape) * (rng.random(shape) < p)  # noqa: E731
    net.connect("in", "exc", sparse((100, 80), 0.2, 0.4))
    net.connect("exc", "inh", sparse((80, 20), 0.2, 0.3))
    net.connect("inh", "exc", -sparse((20, 80), 0.3, 0.3))
    return net


if __name__ == "__main__":
    save_network(ei_network(), Path(__file__).parent / "ei.json")
