"""``loihi-emu demo``: run the embedded default network and report its activity."""

from __future__ import annotations

import time
from typing import TextIO

import numpy as np

from loihi_emu import Emulator
from loihi_emu.plots import draw_raster, pyplot
from loihi_emu.safefile import atomic_write


def run_demo(steps: int, seed: int, plot: str | None, out: TextIO) -> int:
    """Compile :func:`compiler.network.default_net.default_network` and run it ``steps`` steps."""
    from compiler import compile
    from compiler.network.default_net import default_network

    net = default_network(seed)
    image, report = compile(net)
    inputs = net.input_array(steps)
    print(
        f"default network: {image.n_compartments} compartments on {len(image.cores)} cores "
        f"({len(image.chips)} chip), {image.n_synapses} synapses, {image.n_inputs} input axons; {steps} steps",
        file=out,
    )
    emu = Emulator(image, seed=seed, probes=["spikes"])
    t0 = time.perf_counter()
    emu.run(steps, inputs, progress=True)  # the same as emu.run(steps): the image carries the inputs
    dt = time.perf_counter() - t0
    print(f"{'chip':>4} {'core':>4} {'compartments':>12} {'spikes':>8} {'rate/step':>9}", file=out)
    for c in image.cores:
        g = c.compartments.global_index
        k = int(emu.spike_counts[g].sum())
        print(f"{c.chip:>4} {c.index:>4} {c.compartments.n:>12} {k:>8} {k / (g.size * max(steps, 1)):>9.4f}", file=out)
    for name, (start, size) in net.compartment_ranges().items():
        k = int(emu.spike_counts[start : start + size].sum())
        print(f"population {name}: {k} spikes, {k / (size * max(steps, 1)):.4f} per compartment-step", file=out)
    print(
        f"synaptic events: {emu.synaptic_events} ({emu.synaptic_events / max(dt, 1e-9):,.0f}/s); "
        f"wraps: {emu.wraps}; wall {dt:.2f} s",
        file=out,
    )
    if plot:
        groups = [(name, start, size) for name, (start, size) in net.compartment_ranges().items()]
        write_raster(emu.data["spike_events"], image.n_compartments, steps, plot, groups, seed)
        print(f"raster plot written to {plot}", file=out)
    return 0


def write_raster(events: np.ndarray, n: int, steps: int, path: str,
                 groups: list[tuple[str, int, int]] | None = None, seed: int = 0) -> None:
    """Raster of (step, compartment) spike events, coloured by population, into a PNG (matplotlib, 'plot' extra)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 5))
    draw_raster(ax, events, n, steps, groups,
                title=f"loihi-emu demo: default network, {n} compartments, {steps} steps (seed {seed})")
    fig.tight_layout()
    with atomic_write(path, "plot") as fh:
        fig.savefig(fh, dpi=120, format="png")
    plt.close(fig)
