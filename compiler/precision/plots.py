"""Figures of a precision report (needs matplotlib, the ``plot`` extra; imported lazily).

* :func:`plot_raster`: float (open circles) and fixed-point (dots) spikes overlaid;
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


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise PrecisionError("plots need matplotlib: pip install matplotlib (the 'plot' extra)") from exc
    return plt


def plot_raster(report: PrecisionReport, max_compartments: int = 200, ax=None):
    """Raster of the first ``max_compartments`` compartments: float 'o', fixed '.', x = step, y = global index."""
    plt = _pyplot()
    if report.float_spikes is None:
        raise PrecisionError("the report holds no spike arrays to plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5))
    n = min(max_compartments, report.float_spikes.shape[1])
    for arr, style, label in ((report.float_spikes, dict(marker="o", s=14, facecolors="none", edgecolors="C0"),
                               "float"), (report.fixed_spikes, dict(marker=".", s=6, color="C3"), "fixed point")):
        t, c = np.nonzero(arr[:, :n])
        ax.scatter(t, c, label=label, **style)
    for p in report.populations:
        if p.first < n:
            ax.axhline(p.first - 0.5, color="0.8", lw=0.5)
    ax.set_xlabel("step")
    ax.set_ylabel("global compartment")
    ax.set_title(f"{report.network}: float vs fixed-point spikes")
    ax.legend(loc="upper right")
    return ax.figure


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
        ax.set_ylabel(f"v[{g}]")
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
    a1.legend()
    a2.plot(bits, [100 * r.identical for r in rows], "o-")
    a2.set_xlabel("weight bits")
    a2.set_ylabel("identical spike trains (%)")
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
