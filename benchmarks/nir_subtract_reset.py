"""What approximating snnTorch's subtract reset with Loihi's reset to 0 costs (docs/nir.md, "Resets").

    python benchmarks/nir_subtract_reset.py [--steps 1000] [--seeds 5]

Takes the weights, betas and thresholds of tests/data/nir/snntorch_lif_zero.nir
(Linear(10, 6) -> Leaky), runs snnTorch's subtract-reset equations in numpy
(``mem[t] = beta mem[t-1] + x[t] - thr s[t-1]``, spike when ``mem > thr``)
and the network imported with ``reset='zero'`` in the float reference, on
Bernoulli inputs of several rates, and prints per rate the spike counts, the
count ratio (zero / subtract) and the fraction of steps with the same output
(spike or not) in both. It also runs snnTorch's zero reset in numpy as a
control: that one must match the import exactly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from compiler import FloatSimulator, from_nir

NIR_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "nir" / "snntorch_lif_zero.nir"


def snntorch_leaky(w: np.ndarray, beta: np.ndarray, thr: np.ndarray, x: np.ndarray, reset: str) -> np.ndarray:
    """snnTorch 1.0 Leaky with reset_delay=True: the reset of a spike acts in the next step."""
    mem = np.zeros(w.shape[0], np.float32)
    out = np.zeros((x.shape[0], w.shape[0]), bool)
    for t in range(x.shape[0]):
        s_prev = (mem > thr).astype(np.float32)
        cur = w @ x[t].astype(np.float32)
        if reset == "subtract":
            mem = beta * mem + cur - s_prev * thr
        else:
            mem = beta * (1 - s_prev) * mem + cur
        out[t] = mem > thr
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    import nir

    g = nir.read(NIR_FILE)
    w = np.asarray(g.nodes["0"].weight, np.float32)
    lif = g.nodes["1"]
    beta = (1 - 1e-4 / lif.tau).astype(np.float32)
    thr = np.asarray(lif.v_threshold, np.float32)
    imp = from_nir(NIR_FILE, dt=1e-4, convention="snntorch", reset="zero")
    print(f"{'rate':>5} {'subtract sp':>11} {'zero sp':>8} {'ratio':>6} {'same steps':>10} {'zero ctl':>8}")
    for rate in (0.05, 0.1, 0.25, 0.5):
        sub = zero = same = ctl = 0
        n = 0
        for seed in range(args.seeds):
            x = np.random.default_rng(seed).random((args.steps, 10)) < rate
            u = imp.inputs(x)
            sim = FloatSimulator(imp.network)
            sim.run(u.shape[0], u)
            got = imp.outputs(sim)
            s_sub = snntorch_leaky(w, beta, thr, x, "subtract")
            s_zero = snntorch_leaky(w, beta, thr, x, "zero")
            sub += int(s_sub.sum())
            zero += int(got.sum())
            same += int((got == s_sub).sum())
            ctl += int((got != s_zero).sum())
            n += got.size
        ratio = zero / sub if sub else float("nan")
        print(f"{rate:>5} {sub:>11} {zero:>8} {ratio:>6.3f} {same / n:>10.2%} {ctl:>8}")
    print("zero ctl: steps where the import differs from snnTorch's zero reset (must be 0)")


if __name__ == "__main__":
    main()
