"""``loihi-emu demo``: run the embedded default network and report its activity."""

from __future__ import annotations

import time
from typing import TextIO

import numpy as np

from loihi_emu import Emulator, Image, build_image
from loihi_emu.image import SIGN_EXCITATORY, SIGN_INHIBITORY


def default_image(seed: int = 0) -> tuple[Image, np.ndarray, dict[str, slice]]:
    """A register-level E/I network: 240 excitatory and 60 inhibitory
    compartments over 4 cores, driven by 64 Poisson input axons.

    Returns the image, the input spikes [1000, 64] (uint8) and the global
    index range of each population.
    """
    rng = np.random.default_rng(seed)
    n_exc, n_inh, n_in, steps = 240, 60, 64, 1000
    n = n_exc + n_inh
    core_of = np.concatenate([np.arange(n_exc) // 80, np.full(n_inh, 3)])
    regs = dict(
        decay_u_reg=409, decay_v=204, vth_mant=100, bias_mant=0, bias_exp=0,
        refract=2, vmin=-(1 << 23), vmax=(1 << 23) - 1,
    )
    pre, post, w, sign = [], [], [], []

    def connect(src: np.ndarray, dst: np.ndarray, p: float, lo: int, hi: int, mode: int) -> None:
        mask = rng.random((src.size, dst.size)) < p
        s, d = np.nonzero(mask)
        pre.append(src[s])
        post.append(dst[d])
        mant = rng.integers(lo, hi, s.size)
        w.append(-mant if mode == SIGN_INHIBITORY else mant)
        sign.append(np.full(s.size, mode))

    exc, inh, inp = np.arange(n_exc), np.arange(n_exc, n), np.arange(n_in)
    connect(inp, exc, 0.20, 10, 24, SIGN_EXCITATORY)
    connect(inp, inh, 0.05, 4, 10, SIGN_EXCITATORY)
    connect(n_in + exc, exc, 0.05, 4, 10, SIGN_EXCITATORY)
    connect(n_in + exc, inh, 0.05, 3, 8, SIGN_EXCITATORY)
    connect(n_in + inh, exc, 0.20, 10, 30, SIGN_INHIBITORY)
    image = build_image(
        regs, core_of, n_in=n_in, syn_pre=np.concatenate(pre), syn_post=np.concatenate(post),
        syn_wmant=np.concatenate(w), syn_wexp=0, syn_delay=0, syn_sign_mode=np.concatenate(sign),
    )
    inputs = (rng.random((steps, n_in)) < 0.05).astype(np.uint8)
    return image, inputs, {"exc": slice(0, n_exc), "inh": slice(n_exc, n)}


def run_demo(steps: int, seed: int, plot: str | None, out: TextIO) -> int:
    image, inputs, pops = default_image(seed)
    if steps > inputs.shape[0]:
        reps = -(-steps // inputs.shape[0])
        inputs = np.tile(inputs, (reps, 1))
    inputs = inputs[:steps]
    print(
        f"default network: {image.n_compartments} compartments on {len(image.cores)} cores, "
        f"{image.n_synapses} synapses, {image.n_inputs} input axons; {steps} steps",
        file=out,
    )
    emu = Emulator(image, seed=seed, probes=["spikes"])
    t0 = time.perf_counter()
    emu.run(steps, inputs, progress=True)
    dt = time.perf_counter() - t0
    print(f"{'chip':>4} {'core':>4} {'compartments':>12} {'spikes':>8} {'rate/step':>9}", file=out)
    for c in image.cores:
        g = c.compartments.global_index
        k = int(emu.spike_counts[g].sum())
        print(f"{c.chip:>4} {c.index:>4} {c.compartments.n:>12} {k:>8} {k / (g.size * max(steps, 1)):>9.4f}", file=out)
    for name, sl in pops.items():
        k = int(emu.spike_counts[sl].sum())
        print(f"population {name}: {k} spikes, {k / ((sl.stop - sl.start) * max(steps, 1)):.4f} per compartment-step", file=out)
    print(
        f"synaptic events: {emu.synaptic_events} ({emu.synaptic_events / max(dt, 1e-9):,.0f}/s); "
        f"wraps: {emu.wraps}; wall {dt:.2f} s",
        file=out,
    )
    if plot:
        write_raster(emu.data["spike_events"], image.n_compartments, steps, plot)
        print(f"raster plot written to {plot}", file=out)
    return 0


def write_raster(events: np.ndarray, n: int, steps: int, path: str) -> None:
    """Raster of (step, compartment) spike events into a PNG (matplotlib, 'plot' extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SystemExit("--plot needs matplotlib: pip install 'loihi-emu[plot]'") from exc
    fig, ax = plt.subplots(figsize=(10, 5))
    ax.scatter(events[:, 0], events[:, 1], s=0.5, c="k", marker=".")
    ax.set_xlim(0, steps)
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("compartment (global index)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
