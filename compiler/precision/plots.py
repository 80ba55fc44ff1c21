"""Figures of a precision report (needs matplotlib, the ``plot`` extra; imported lazily).

* :func:`plot_raster`: float and fixed-point rasters of every compartment (density above a size);
* :func:`plot_worst_voltages`: v of the compartments with the largest v RMSE, float vs fixed, in model units;
* :func:`plot_sweep`: error figures against weight bits.
:func:`save_report_plots` writes the figures of a report (and a sweep) into a directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from compiler.precision.compare import PrecisionError, PrecisionReport
from compiler.precision.sweep import SweepReport
from loihi_emu.plots import DENSITY_ABOVE, draw_raster


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise PrecisionError("plots need matplotlib: pip install matplotlib (the 'plot' extra)") from exc
    return plt


def plot_raster(report: PrecisionReport, density_above: int = DENSITY_ABOVE, ax=None):
    """Float and fixed-point rasters of every compartment, one above the other, coloured by population.

    Above ``density_above`` compartments each is a density raster (spike
    counts per bin) with a note saying so: every compartment appears.
    """
    plt = _pyplot()
    if report.float_spikes is None:
        raise PrecisionError("the report holds no spike arrays to plot")
    steps, n = report.float_spikes.shape
    groups = [(p.name, p.first, p.size) for p in report.populations]
    if ax is None:
        fig, axes = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    else:
        fig, axes = ax.figure, [ax, ax.twinx()]
    for a, arr, label in ((axes[0], report.float_spikes, "float reference"),
                          (axes[1], report.fixed_spikes, "fixed point (emulator)")):
        t, c = np.nonzero(arr)
        draw_raster(a, np.stack([t, c], axis=1), n, steps, groups, density_above=density_above,
                    title=f"{report.network}: {label} spikes, {n} compartments")
    fig.tight_layout()
    return fig


def plot_worst_voltages(report: PrecisionReport, k: int = 4):
    """v (model units) of the k compartments with the largest v RMSE, float vs fixed, with the threshold."""
    plt = _pyplot()
    if report.float_v is None:
        raise PrecisionError("the report holds no voltage arrays to plot")
    rmse = np.sqrt(np.mean((report.fixed_v - report.float_v) ** 2, axis=0)) / report.vth
    worst = np.argsort(-rmse, kind="stable")[:k]
    fig, axes = plt.subplots(len(worst), 1, figsize=(10, 2.2 * len(worst)), sharex=True, squeeze=False)
    for ax, g in zip(axes[:, 0], worst):
        ax.plot(report.float_v[:, g], label="float", lw=1)
        ax.plot(report.fixed_v[:, g], label="fixed point", lw=1, ls="--")
        ax.axhline(report.vth[g], color="0.5", lw=0.5, ls=":")
        ax.set_ylabel(f"v[{g}] (model units)")
        ax.set_title(f"compartment {g}: v RMSE {rmse[g]:.3g} x vth", fontsize=9)
    axes[0, 0].legend(loc="upper right")
    axes[-1, 0].set_xlabel("step")
    return fig


def plot_sweep(sw: SweepReport):
    """Van Rossum, Victor-Purpura, v RMSE and identical fraction against weight bits."""
    plt = _pyplot()
    rows = [r for r in sw.rows if r.error is None]
    bits = [r.weight_bits for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.semilogy(bits, [max(r.van_rossum, 1e-6) for r in rows], "o-", label="van Rossum (mean)")
    a1.semilogy(bits, [max(r.victor_purpura, 1e-6) for r in rows], "s-", label="Victor-Purpura (mean)")
    a1.semilogy(bits, [max(r.v_rmse, 1e-6) for r in rows], "^-", label="v RMSE / vth (mean)")
    a1.set_xlabel("weight bits")
    a1.set_ylabel("error (mean over compartments)")
    a1.set_title("spike-train distances and v error")
    a1.legend()
    a2.plot(bits, [100 * r.identical for r in rows], "o-")
    a2.set_xlabel("weight bits")
    a2.set_ylabel("identical spike trains (%)")
    a2.set_title("compartments whose spikes match exactly")
    fig.suptitle(f"{sw.network}: precision vs weight bits")
    return fig


def save_report_plots(report: PrecisionReport | None, directory: str | os.PathLike,
                      sweep_report: SweepReport | None = None) -> list[Path]:
    """Write raster.png, voltages.png (and sweep.png) into ``directory``; returns the paths written."""
    plt = _pyplot()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    figs = []
    if report is not None:
        figs += [("raster.png", plot_raster(report)), ("voltages.png", plot_worst_voltages(report))]
    if sweep_report is not None:
        figs.append(("sweep.png", plot_sweep(sweep_report)))
    paths = []
    for name, fig in figs:
        fig.savefig(out / name, dpi=100, bbox_inches="tight")
        plt.close(fig)
        paths.append(out / name)
    return paths
