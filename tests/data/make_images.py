"""Writes the saved board images under tests/data (run once per image format version; keep the files).

``image-v1.npz`` (``loihi-image/1``: tables only) and ``image-v2.npz``
(``loihi-image/2``: plus the input program and population map) hold the same
small network: a rate input of 8 axons and a latency input of 4 driving 6
excitatory compartments, which drive 3 inhibitory ones through a plastic projection.

    PYTHONPATH=. python tests/data/make_images.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from compiler import LatencyEncoder, Network, RateEncoder, compile
from loihi_emu import save


def network() -> Network:
    rng = np.random.default_rng(5)
    net = Network("saved")
    net.add_input("in", encoder=RateEncoder(rng.uniform(0.1, 0.4, 8), seed=3))
    net.add_input("late", encoder=LatencyEncoder(np.linspace(0.6, 2.0, 4), tau=8.0))
    net.add_population("exc", 6, tau_u=4, tau_v=16, vth=1.0, refractory=2)
    net.add_population("inh", 3, tau_u=2, tau_v=8, vth=0.8)
    net.connect("in", "exc", rng.uniform(0, 0.6, (8, 6)))
    net.connect("late", "exc", np.full((4, 6), 0.3))
    net.connect("exc", "inh", sparse=(np.arange(6), np.arange(6) % 3, np.full(6, 0.5)),
                learning_rule="2^-3*x1*y0 - 2^-3*y1*x0", traces={"x1": (20, 8), "y1": (20, 8)}, w_max=1.0)
    return net


def main() -> None:
    here = Path(__file__).parent
    image, _ = compile(network())
    save(image, here / "image-v2.npz")
    with np.load(here / "image-v2.npz", allow_pickle=False) as f:
        members = {k: f[k] for k in f.files if not k.startswith(("program.", "popmap."))}
    header = json.loads(str(members["header"]))
    members["header"] = np.array(json.dumps({"format": "loihi-image/1", "spec": header["spec"],
                                             "cores": header["cores"]}))
    with open(here / "image-v1.npz", "wb") as fh:
        np.savez(fh, **members)


if __name__ == "__main__":
    main()
