"""The default network the ``loihi-emu demo`` command compiles and runs.

``default_network(seed)``: a balanced excitatory/inhibitory network driven by
a seeded rate-coded input, a few hundred compartments that need several
cores (synapse memory is what splits them). Over 1000 steps a few percent of
the compartments spike per step; none saturate.
"""

from __future__ import annotations

import numpy as np

from compiler.network.encoders import RateEncoder
from compiler.network.model import Network


def _random_weights(rng: np.random.Generator, n_pre: int, n_post: int, p: float, mean: float) -> np.ndarray:
    """Dense [n_pre, n_post]: each synapse exists with probability p; weight uniform in [0.5, 1.5] * mean."""
    mask = rng.random((n_pre, n_post)) < p
    return mask * rng.uniform(0.5, 1.5, (n_pre, n_post)) * mean


def default_network(seed: int = 0) -> Network:
    """Input 200 (rate 2 % per step) -> exc 480 <-> inh 120; model unit: the threshold is 1."""
    rng = np.random.default_rng(seed)
    n_in, n_exc, n_inh = 200, 480, 120
    net = Network(f"default(seed={seed})")
    net.add_input("input", encoder=RateEncoder(rng.uniform(0.01, 0.03, n_in), seed=seed))
    net.add_population("exc", n_exc, tau_u=5, tau_v=20, vth=1.0, bias=0.0, refractory=3)
    net.add_population("inh", n_inh, tau_u=3, tau_v=10, vth=1.0, bias=0.0, refractory=2)
    net.connect("input", "exc", _random_weights(rng, n_in, n_exc, 0.25, 0.08))
    net.connect("exc", "exc", _random_weights(rng, n_exc, n_exc, 0.2, 0.012),
                delay=rng.integers(0, 4, (n_exc, n_exc)))
    net.connect("exc", "inh", _random_weights(rng, n_exc, n_inh, 0.3, 0.02))
    net.connect("inh", "exc", -_random_weights(rng, n_inh, n_exc, 0.3, 0.05))
    net.connect("inh", "inh", -_random_weights(rng, n_inh, n_inh, 0.2, 0.02))
    return net
