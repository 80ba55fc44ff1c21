"""Per-core figure of an energy report (needs matplotlib, the ``plot`` extra; imported where used)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from loihi_emu.energy.profiles import EVENTS, EnergyError
from loihi_emu.energy.report import EnergyReport


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EnergyError("energy plots need matplotlib: pip install matplotlib (the 'plot' extra)") from exc
    return plt


def plot_per_core(report: EnergyReport, path: str | Path | None = None, max_cores: int = 64):
    """Two panels over the cores (and the inputs row): energy stacked by event (J), and busy time (s).

    At most ``max_cores`` rows, the most expensive first. With ``path`` the
    figure is written there (through a temporary file, so a failed write
    leaves an old file intact). Returns the matplotlib figure.
    """
    plt = _pyplot()
    pc = report.per_core
    order = np.argsort(-pc["energy"], kind="stable")[:max_cores]
    labels = [pc["label"][i] for i in order]
    by_event = report.energy.sum(axis=0)[order]  # [rows, events]
    fig, (ax_e, ax_t) = plt.subplots(2, 1, figsize=(max(6.0, 0.35 * len(order) + 2), 7), sharex=True)
    x = np.arange(len(order))
    bottom = np.zeros(len(order))
    for j, event in enumerate(EVENTS):
        if by_event[:, j].any():
            ax_e.bar(x, by_event[:, j], bottom=bottom, label=event)
            bottom += by_event[:, j]
    ax_e.set_ylabel("energy over the run (J)")
    ax_e.set_title(f"{report.profile.name}: {report.steps} steps, total {report.total_energy:.3g} J, "
                   f"chip time {report.total_time:.3g} s")
    ax_e.legend(fontsize="small", ncol=2)
    phases = report.phases.sum(axis=0)[order]
    bottom = np.zeros(len(order))
    for j, name in enumerate(("send", "receive", "learn")):
        if phases[:, j].any():
            ax_t.bar(x, phases[:, j], bottom=bottom, label=name)
            bottom += phases[:, j]
    ax_t.set_ylabel("busy time over the run (s)")
    ax_t.set_xticks(x, labels, rotation=90, fontsize="small")
    ax_t.legend(fontsize="small")
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
        try:
            fig.savefig(tmp)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
    return fig
