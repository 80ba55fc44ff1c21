"""Interchip synapses and traffic of each placement on a modular network.

    PYTHONPATH=. python benchmarks/bench_placement.py [--clusters 12] [--seed 0] [--cores-per-chip 4]

The network: ``clusters`` modules, each an excitatory and an inhibitory
population (sizes drawn per module, 300..1200 and a quarter of that), densely
connected inside the module (2 % E->E, 10 % between E and I) and sparsely
between modules (0.1 % E->E, along a ring plus random pairs). Populations are
declared all excitatory first, then all inhibitory, as a network file written
by hand might list them. The spec is Loihi 1 with ``cores_per_chip`` cores per
chip (default 4: the same packing problem as 128 cores per chip at a size that
compiles in seconds), so the network spans several chips.

For ``sequential``, ``bisection`` and ``metis`` it prints cores, chips,
synapses crossing chips and cores, the interchip traffic estimate, and the
ratio of metis's interchip synapses to bisection's. It also checks that the
emulated spikes of the three placements are identical (placement never
changes spikes) on a short run.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings

import numpy as np

from compiler import Network, RateEncoder, compile
from loihi_emu import Emulator
from loihi_emu.hw import LOIHI1


def make_network(clusters: int, seed: int) -> Network:
    rng = np.random.default_rng(seed)
    net = Network(f"modular-{clusters}")
    sizes = rng.integers(300, 1201, clusters)
    net.add_input("in", encoder=RateEncoder(0.05, size=64, seed=seed))
    for k, n in enumerate(sizes):
        net.add_population(f"E{k}", int(n), tau_u=5, tau_v=20, vth=1.0, bias=0.04, refractory=2)
    for k, n in enumerate(sizes):
        net.add_population(f"I{k}", int(n) // 4, tau_u=5, tau_v=10, vth=1.0, bias=0.02, refractory=2)

    def sparse(a: int, b: int, p: float, w: float):
        m = rng.binomial(a * b, p)
        return rng.integers(0, a, m), rng.integers(0, b, m), np.full(m, w)

    for k, n in enumerate(sizes):
        n, ni = int(n), int(n) // 4
        net.connect("in", f"E{k}", sparse=sparse(64, n, 0.1, 0.3))
        net.connect(f"E{k}", f"E{k}", sparse=sparse(n, n, 0.02, 0.02))
        net.connect(f"E{k}", f"I{k}", sparse=sparse(n, ni, 0.1, 0.03))
        net.connect(f"I{k}", f"E{k}", sparse=sparse(ni, n, 0.1, -0.05))
    links = {(k, (k + 1) % clusters) for k in range(clusters)}
    links |= {tuple(rng.choice(clusters, 2, replace=False)) for _ in range(clusters // 2)}
    for a, b in sorted(links):
        if a != b:
            na, nb = int(sizes[a]), int(sizes[b])
            net.connect(f"E{a}", f"E{b}", sparse=sparse(na, nb, 0.001, 0.02))
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clusters", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cores-per-chip", type=int, default=4)
    ap.add_argument("--steps", type=int, default=50, help="steps of the spike-identity check (0: skip)")
    args = ap.parse_args()
    spec = dataclasses.replace(LOIHI1, name=f"loihi1-{args.cores_per_chip}cpc", cores_per_chip=args.cores_per_chip)
    net = make_network(args.clusters, args.seed)
    print(f"{net.name}: {net.n_compartments} compartments, {net.n_synapses} synapses, "
          f"{args.cores_per_chip} cores per chip")
    head = (f"{'placement':<11} {'cores':>5} {'chips':>5} {'syn x chip':>10} {'syn x core':>10} "
            f"{'msg/step':>9} {'hops/step':>9} {'compile s':>9}")
    print(head)
    print("-" * len(head))
    reps, spikes = {}, {}
    for name in ("sequential", "bisection", "metis"):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image, rep = compile(net, spec=spec, placement=name)
        dt = time.perf_counter() - t0
        reps[name] = rep
        r, t = rep.routes, rep.traffic
        print(f"{name:<11} {rep.cores:>5} {rep.chips:>5} {r.synapses_inter_chip:>10} {r.synapses_inter_core:>10} "
              f"{t.messages:>9.1f} {t.hop_messages:>9.1f} {dt:>9.2f}")
        if args.steps:
            emu = Emulator(image)
            emu.run(args.steps, net.input_array(args.steps))
            spikes[name] = emu.data["spikes"]
    b, m = reps["bisection"].routes.synapses_inter_chip, reps["metis"].routes.synapses_inter_chip
    print(f"metis / bisection interchip synapses: {m / b:.3f} ({100 * (1 - m / b):.0f} % fewer)" if b else
          "bisection has no interchip synapses")
    if spikes:
        same = all(np.array_equal(spikes["sequential"], s) for s in spikes.values())
        print(f"spikes identical across placements ({args.steps} steps, {int(spikes['metis'].sum())} spikes): {same}")


if __name__ == "__main__":
    main()
