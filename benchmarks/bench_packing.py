"""Cores and precision of each packing setting on heterogeneous networks.

    PYTHONPATH=. python benchmarks/bench_packing.py [--networks 48] [--steps 500] [--seed 0]

:func:`make_network` draws a network like the ones that make the exact
packing expensive: 1-4 populations of 20-120 compartments, thresholds per
compartment varying 10x, biases per compartment that drive each compartment
near its threshold, refractory periods 1..4 per compartment, time constants
tau_u and tau_v per population log-uniform in 1.4..300 steps, weights with
magnitudes log-uniform over three decades and mixed signs, from one rate-coded
input population and between populations.

For each network it compiles and emulates every packing setting, runs the
float64 reference once, and prints the cores used, the cores the
compartment, axon and synapse-memory limits alone require ("floor": the same
network compiled with every profile table unlimited), and the mean
normalized Victor-Purpura distance to the float reference (per compartment:
distance at cost 0.1/step divided by max(1, float spikes, fixed spikes)).
The summary gives totals, means and medians, and the ratios the packing goal
is stated in (dense cores / floor cores, dense VP / exact VP).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings

import numpy as np

from compiler import Network, RateEncoder, compile
from compiler.precision.compare import fixed_run, float_run, input_spikes
from compiler.precision.metrics import victor_purpura
from loihi_emu.hw import LOIHI1

SETTINGS = {
    "exact": dict(packing="exact"),
    "dense": dict(packing="dense"),
    "dense+comp": dict(packing="dense", decay_compensation=True),
    "auto": dict(),
}
UNLIMITED = dataclasses.replace(LOIHI1, max_threshold_profiles=1 << 20, max_compartment_profiles=1 << 20,
                                max_synapse_formats=1 << 20, max_vminmax_profiles=1 << 20)


def make_network(seed: int) -> Network:
    """One heterogeneous network (see the module docstring); a pure function of ``seed``."""
    rng = np.random.default_rng(seed)
    net = Network(f"hetero-{seed}")
    n_in = int(rng.integers(40, 100))
    net.add_input("in", encoder=RateEncoder(float(rng.uniform(0.02, 0.1)), size=n_in, seed=seed))
    names = []
    for p in range(int(rng.integers(1, 5))):
        n = int(rng.integers(20, 121))
        tau_u, tau_v = np.exp(rng.uniform(np.log(1.4), np.log(300), 2))
        vth = float(np.exp(rng.uniform(-1, 1))) * np.exp(rng.uniform(0, np.log(10), n))
        drive = vth / tau_v * rng.uniform(0.7, 1.3, n)  # bias alone brings v near vth
        name = f"p{p}"
        net.add_population(name, n, tau_u=tau_u, tau_v=tau_v, vth=vth, bias=drive,
                           refractory=rng.integers(1, 5, n))
        names.append((name, n, vth, tau_u, tau_v))
    for pre in ["in"] + [nm for nm, *_ in names]:
        size_pre = n_in if pre == "in" else next(n for nm, n, *_ in names if nm == pre)
        for post, n, vth, tau_u, _tau_v in names:
            if pre != "in" and rng.random() < 0.4:
                continue
            mask = rng.random((size_pre, n)) < rng.uniform(0.05, 0.3)
            if not mask.any():
                continue
            mag = np.exp(rng.uniform(np.log(1e-3), 0, mask.sum()))
            sign = np.where(rng.random(mask.sum()) < 0.7, 1.0, -1.0)
            pre_i, post_i = np.nonzero(mask)
            w = sign * mag * vth[post_i] / tau_u * float(rng.uniform(0.5, 3))
            net.connect(pre, post, sparse=(pre_i, post_i, w))
    return net


def vp_normalized(fl: np.ndarray, fx: np.ndarray) -> float:
    """Mean over compartments of VP distance (cost 0.1/step) / max(1, float spikes, fixed spikes)."""
    vp = victor_purpura(fl, fx, 0.1)
    norm = np.maximum(1, np.maximum(fl.sum(axis=0), fx.sum(axis=0)))
    return float((vp / norm).mean())


def measure(net: Network, steps: int, settings=SETTINGS) -> dict:
    """Cores, floor cores and normalized VP of every setting on one network."""
    x = input_spikes(net, steps, None)
    fl = float_run(net, steps, x).data["spikes"]
    out = {"compartments": net.n_compartments, "float spikes": int(fl.sum())}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["floor"] = compile(net, spec=UNLIMITED, packing="exact")[1].cores
        for name, opts in settings.items():
            run = fixed_run(net, steps, x, **opts)
            out[name] = (run.report.cores, vp_normalized(fl, run.spikes), run.report.packing)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--networks", type=int, default=48)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    head = f"{'net':>4} {'cx':>5} {'floor':>5} " + " ".join(f"{k + ' cores':>12} {k + ' VP':>10}" for k in SETTINGS)
    print(head)
    print("-" * len(head))
    for i in range(args.networks):
        net = make_network(args.seed + i)
        r = measure(net, args.steps)
        rows.append(r)
        print(f"{i:>4} {r['compartments']:>5} {r['floor']:>5} "
              + " ".join(f"{r[k][0]:>12} {r[k][1]:>10.4f}" for k in SETTINGS), flush=True)
    print()
    floor = sum(r["floor"] for r in rows)
    print(f"{len(rows)} networks, {sum(r['compartments'] for r in rows)} compartments, {args.steps} steps; "
          f"floor (compartment, axon, synapse-memory limits alone): {floor} cores")
    for k in SETTINGS:
        cores = sum(r[k][0] for r in rows)
        vp = np.array([r[k][1] for r in rows])
        print(f"  {k:<11} {cores:>6} cores ({cores / floor:.2f}x floor)  VP mean {vp.mean():.4f} "
              f"median {np.median(vp):.4f}")
    ex = np.array([r["exact"][1] for r in rows])
    de = np.array([r["dense"][1] for r in rows])
    print(f"dense / exact VP: mean {de.mean() / ex.mean():.3f}, median {np.median(de) / np.median(ex):.3f}; "
          f"dense better or equal on {(de <= ex).sum()} of {len(rows)}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
