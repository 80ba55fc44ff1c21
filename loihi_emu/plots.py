"""Figures of a run (matplotlib, the ``plot`` extra, imported when a figure is made).

* :func:`draw_raster`: spikes of every compartment on one axis, coloured by
  population, with boundaries and a legend; above ``density_above``
  compartments (or ``max_points`` spikes) a density raster (spike counts per
  bin of steps x compartments) with a note saying so, never a silent cut;
* :func:`plot_results`: the raster of a :class:`~loihi_emu.results.Results`
  plus, on request, v of some compartments (model units) and the plastic
  weights (model units). ``loihi-emu plot`` and ``Simulator.plot`` use it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from loihi_emu.errors import LoihiError
from loihi_emu.image.popmap import parse_selector
from loihi_emu.results import Results

DENSITY_ABOVE = 2000  # compartments
MAX_POINTS = 200_000  # spikes drawn as points


class PlotError(LoihiError):
    """A figure cannot be made (matplotlib missing, or nothing recorded to plot)."""


def pyplot():
    """matplotlib.pyplot with the Agg backend, or a :class:`PlotError` saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise PlotError("plots need matplotlib: pip install 'loihi-emu[plot]'") from exc
    return plt


def draw_raster(ax, events: np.ndarray, n: int, steps: int,
                groups: Sequence[tuple[str, int, int]] | None = None, *, density_above: int = DENSITY_ABOVE,
                max_points: int = MAX_POINTS, title: str | None = None, marker_size: float | None = None) -> str:
    """Draw (step, compartment) ``events`` of ``n`` compartments over ``steps`` steps on ``ax``.

    groups: (name, first, size) per population (colours, boundaries, legend).
    Returns 'points' or 'density' (what was drawn).
    """
    events = np.asarray(events, np.int64).reshape(-1, 2)
    groups = list(groups or [("compartments", 0, n)])
    density = n > density_above or events.shape[0] > max_points
    if marker_size is None:
        marker_size = 12.0 if n <= 50 else (4.0 if n <= 500 else 1.5)
    colours = [f"C{i % 10}" for i in range(len(groups))]
    if density:
        tb = max(1, -(-steps // 500))
        cb = max(1, -(-n // 400))
        hist = np.zeros((-(-n // cb), -(-max(steps, 1) // tb)))
        if events.size:
            np.add.at(hist, (events[:, 1] // cb, events[:, 0] // tb), 1)
        im = ax.imshow(hist, aspect="auto", origin="lower", interpolation="nearest", cmap="Greys",
                       extent=(0, hist.shape[1] * tb, -0.5, hist.shape[0] * cb - 0.5))
        ax.figure.colorbar(im, ax=ax, label=f"spikes per {tb} step(s) x {cb} compartment(s)")
        why = f"{n} compartments > {density_above}" if n > density_above else \
            f"{events.shape[0]} spikes > {max_points}"
        ax.text(0.01, 1.01, f"density raster ({why}): every compartment is shown, binned",
                transform=ax.transAxes, fontsize=8, va="bottom")
        for (name, first, size), c in zip(groups, colours):
            ax.axhspan(first - 0.5, first + size - 0.5, xmin=0, xmax=0.01, color=c, label=name)
    else:
        for (name, first, size), c in zip(groups, colours):
            sel = (events[:, 1] >= first) & (events[:, 1] < first + size)
            ax.scatter(events[sel, 0], events[sel, 1], s=marker_size, c=c, marker=".", linewidths=0,
                       label=f"{name} ({int(sel.sum())} spikes)")
    for _, first, _ in groups[1:]:
        ax.axhline(first - 0.5, color="0.6", lw=0.6)
    ax.set_xlim(0, max(steps, 1))
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("compartment (global index)")
    ax.set_title(title or f"spikes of {n} compartments over {steps} steps", pad=14 if density else None)
    if groups:
        ax.legend(loc="upper right", fontsize=8, markerscale=4, framealpha=0.8)
    return "density" if density else "points"


def _groups(results: Results) -> tuple[list[tuple[str, int, int]], int]:
    pm = results.populations
    if pm is None:
        ev = results.spike_events()
        n = int(ev[:, 1].max()) + 1 if ev.size else 1
        return [("compartments", 0, n)], n
    return [(p.name, p.start, p.size) for p in pm.compartment_populations], pm.n_compartments


def plot_results(results: Results, path: str | os.PathLike | None = None, *, v: str | None = None,
                 weights: bool = False, title: str | None = None, dpi: int = 120):
    """The raster of ``results`` (and v of the selector ``v``, the plastic weights with ``weights``).

    Returns the figure; with ``path`` also writes it (and closes it).
    """
    plt = pyplot()
    panels = ["raster"] + (["v"] if v else []) + (["w"] if weights else [])
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 4.5 + 2.8 * (len(panels) - 1)), squeeze=False)
    name = title or "run"
    for ax, panel in zip(axes[:, 0], panels):
        if panel == "raster":
            try:
                events = results.spike_events()
            except KeyError:
                raise PlotError("the results hold no spikes probe; record spikes to draw a raster") from None
            groups, n = _groups(results)
            draw_raster(ax, events, n, results.steps, groups,
                        title=f"{name}: spikes, {n} compartments, {results.steps} steps (seed {results.seed})")
        elif panel == "v":
            try:
                vals = results.data[v, "v"]
            except KeyError as exc:
                raise PlotError(f"--v {v}: {exc.args[0]}") from None
            every = results.probe_for((v, "v"))[0].every
            t = (np.arange(vals.shape[0]) + 1) * every - 1
            pop, _ = parse_selector(v)
            start = results.populations.population(pop).start if results.populations else 0
            idx = results.populations.select(v) - start if results.populations else np.arange(vals.shape[1])
            for j in range(vals.shape[1]):
                ax.plot(t, vals[:, j], lw=1, label=f"{pop}[{idx[j]}]")
            ax.set_xlabel("step")
            ax.set_ylabel(f"v ({'model units' if results.populations or results.model_units else 'register'})")
            ax.set_title(f"{name}: membrane voltage of {v}")
            ax.legend(loc="upper right", fontsize=8, ncol=min(4, vals.shape[1]))
        else:
            wprobes = [p for p in results.probes if p.quantity == "w"]
            if not wprobes:
                raise PlotError("--weights: the results hold no 'w' probe; record w of the plastic synapses")
            p = wprobes[0]
            converted = results.populations is not None or results.model_units
            vals = results.data[p.selector or "*", "w"] if converted else results.arrays[p.key]
            t = (np.arange(vals.shape[0]) + 1) * p.every - 1
            show = vals[:, : min(vals.shape[1], 30)]
            ax.plot(t, show, lw=0.6, alpha=0.6)
            ax.plot(t, vals.mean(axis=1), color="k", lw=2, label=f"mean of {vals.shape[1]} synapses")
            ax.set_xlabel("step")
            ax.set_ylabel("weight (model units)" if converted else "weight (register units)")
            ax.set_title(f"{name}: plastic weights {p.selector or ''} ({show.shape[1]} of {vals.shape[1]} drawn "
                         "as lines)")
            ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
    return fig
