"""Packing sweep: cores against precision for each packing setting, on the user's own network.

:func:`packing_sweep` compiles and emulates the network once per setting
(default :data:`PACKING_SETTINGS`: exact, dense, dense with decay-gain
compensation), runs the float reference once, and gives per setting the cores,
what bound them, and the spike figures of
:class:`~compiler.precision.sweep.SweepRow` (count error, rate error, van
Rossum, Victor-Purpura, identical trains). :func:`plot_packing_sweep` draws
cores and VP distance side by side (matplotlib, the ``plot`` extra).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compiler.errors import CompilerError
from compiler.network.model import Network
from compiler.pipeline import as_network
from compiler.precision.compare import PrecisionError, build_report, fixed_run, float_run, input_spikes
from compiler.precision.plots import _pyplot
from compiler.precision.sweep import SweepSerialisation, _row

PACKING_SETTINGS: dict[str, dict] = {
    "exact": {"packing": "exact"},
    "dense": {"packing": "dense"},
    "dense+decay comp": {"packing": "dense", "decay_compensation": True},
}


@dataclass
class PackingRow:
    """One setting: cores, chips, the binding summary, and spike figures (as in SweepRow; nan when it failed)."""

    setting: str
    cores: int = -1
    chips: int = -1
    binding: str = ""
    abs_count_error: int = -1
    rate_rel_error: float = float("nan")
    van_rossum: float = float("nan")
    victor_purpura: float = float("nan")
    identical: float = float("nan")
    wraps: int = 0
    error: str | None = None


@dataclass
class PackingSweepReport(SweepSerialisation):
    network: str
    steps: int
    vr_tau: float
    vp_cost: float
    rows: list[PackingRow]
    seconds: float = 0.0
    reports: dict = field(default_factory=dict, repr=False)

    def to_text(self) -> str:
        head = (f"{'setting':<18} {'cores':>6} {'chips':>5} {'|count err|':>11} {'rate err':>9} {'vR mean':>8} "
                f"{'VP mean':>8} {'same':>7} {'wraps':>6}  binding")
        lines = [f"packing sweep of network {self.network!r}: {self.steps} steps; van Rossum tau {self.vr_tau:g} "
                 f"steps, Victor-Purpura cost {self.vp_cost:g}/step", "", head, "-" * len(head)]
        for r in self.rows:
            if r.error:
                lines.append(f"{r.setting:<18} does not compile: {r.error}")
                continue
            lines.append(f"{r.setting:<18} {r.cores:>6} {r.chips:>5} {r.abs_count_error:>11} "
                         f"{100 * r.rate_rel_error:>8.3g}% {r.van_rossum:>8.3g} {r.victor_purpura:>8.3g} "
                         f"{100 * r.identical:>6.1f}% {r.wraps:>6}  {r.binding}")
        return "\n".join(lines)


def packing_sweep(
    network: Network | str,
    settings: Mapping[str, Mapping] | None = None,
    steps: int = 1000,
    inputs=None,
    seed: int = 0,
    *,
    vr_tau: float = 10.0,
    vp_cost: float = 0.1,
    placement: str = "sequential",
) -> PackingSweepReport:
    """Compare float and fixed point for each packing setting (name -> :func:`compiler.compile` options)."""
    t0 = time.perf_counter()
    net = as_network(network)
    settings = dict(PACKING_SETTINGS if settings is None else settings)
    if not settings:
        raise PrecisionError("give at least one packing setting")
    steps = int(steps)
    if steps < 1:
        raise PrecisionError(f"steps must be >= 1, got {steps}")
    x = input_spikes(net, steps, inputs)
    sim = float_run(net, steps, x)
    fl, vf = sim.data["spikes"], sim.data["v"]
    rows, reports = [], {}
    for name, opts in settings.items():
        try:
            fx = fixed_run(net, steps, x, seed, placement, **dict(opts))
        except CompilerError as exc:
            rows.append(PackingRow(name, error=str(exc)))
            continue
        rep = build_report(net, steps, seed, fx.report, fl, vf, fx.spikes, fx.v, fx.wraps, fx.warnings, vr_tau,
                           vp_cost)
        reports[name] = rep
        sw = _row(0, rep)
        crep = fx.report
        rows.append(PackingRow(name, crep.cores, crep.chips, crep.binding_summary, sw.abs_count_error,
                               sw.rate_rel_error, sw.van_rossum, sw.victor_purpura, sw.identical, sw.wraps))
    return PackingSweepReport(net.name, steps, float(vr_tau), float(vp_cost), rows, time.perf_counter() - t0,
                              reports)


def plot_packing_sweep(report: PackingSweepReport):
    """Cores (bars, left) and mean Victor-Purpura distance (bars, right) per setting."""
    plt = _pyplot()
    ok = [r for r in report.rows if not r.error]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    names = [r.setting for r in ok]
    a.bar(names, [r.cores for r in ok], color="C0")
    a.set_ylabel("cores")
    b.bar(names, [r.victor_purpura for r in ok], color="C3")
    b.set_ylabel("VP distance (mean)")
    for ax in (a, b):
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle(f"{report.network}: packing settings")
    fig.tight_layout()
    return fig


def save_packing_plot(report: PackingSweepReport, directory: str | Path) -> Path:
    """Write ``packing_sweep.png`` into ``directory`` (created if needed; temp file, then rename)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    fig = plot_packing_sweep(report)
    path = d / "packing_sweep.png"
    tmp = d / ".packing_sweep.png.tmp"
    fig.savefig(tmp, format="png", dpi=100)
    tmp.replace(path)
    _pyplot().close(fig)
    return path
