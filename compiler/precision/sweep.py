"""Weight-bit sweep: how the precision report changes with the synapse formats' weight bits.

:func:`sweep` overrides every projection's ``weight_bits`` (capped at the
widest its sign mode allows: 9 mixed, 8 single sign), compiles and emulates
the network once per setting, and compares each run with one float reference
run (the float reference does not depend on the bits).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from compiler.errors import CompilerError
from compiler.network.model import Network
from compiler.passes.quantize import projection_format
from compiler.pipeline import as_network
from compiler.precision.compare import (
    PrecisionError,
    PrecisionReport,
    build_report,
    fixed_run,
    float_run,
    input_spikes,
    json_safe,
)
from loihi_emu.image.core import SIGN_MIXED


def with_weight_bits(net: Network, bits: int, static: bool = True) -> Network:
    """A copy of ``net`` whose projections all use ``bits`` weight bits (capped per sign mode).

    static: also drop every learning rule (the sweep compares static weights).
    """
    out = Network(net.name, net.spec)
    out.graph = net.graph.copy()
    out.node_index = net.node_index
    for a, b, d in out.graph.edges(data=True):
        proj = d["projection"]
        _, sign = projection_format(proj, net.spec)
        hi = net.spec.max_weight_bits - (0 if sign == SIGN_MIXED else 1)
        names = {f.name for f in fields(proj)}
        off = {"learning_rule": None, "traces": None, "learning_epoch": 1, "stochastic_rounding": False}
        extra = {k: v for k, v in off.items() if k in names} if static else {}
        out.graph.edges[a, b]["projection"] = replace(proj, weight_bits=int(min(bits, hi)), **extra)
    return out


@dataclass
class SweepRow:
    """Whole-network figures at one weight-bit setting (units as in :class:`~compiler.precision.compare.PopulationPrecision`).

    abs_count_error: sum over compartments of |fixed - float| spikes;
    rate_rel_error: |fixed - float| / float total spikes; van_rossum / victor_purpura /
    v_rmse: means over all compartments; identical: fraction of identical trains;
    weight_abs_error: the largest absolute weight error of any projection (model units);
    error: why this setting could not be compiled (then the figures are nan).
    """

    weight_bits: int
    abs_count_error: int = -1
    rate_rel_error: float = float("nan")
    van_rossum: float = float("nan")
    victor_purpura: float = float("nan")
    identical: float = float("nan")
    v_rmse: float = float("nan")
    wraps: int = 0
    weight_abs_error: float = float("nan")
    warnings: int = 0
    error: str | None = None


class SweepSerialisation:
    """What the sweep reports share: ``to_dict``/``to_json`` of (network, steps, vr_tau, vp_cost, rows,
    seconds) and ``str`` as the report's ``to_text``."""

    def to_dict(self) -> dict:
        return {"network": self.network, "steps": self.steps, "van_rossum_tau_steps": self.vr_tau,
                "victor_purpura_cost_per_step": self.vp_cost, "rows": [asdict(r) for r in self.rows],
                "seconds": self.seconds}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(json_safe(self.to_dict()), indent=indent)

    def __str__(self) -> str:
        return self.to_text()


@dataclass
class SweepReport(SweepSerialisation):
    """One :class:`SweepRow` per weight-bit setting; ``reports`` holds the full reports (not in JSON)."""

    network: str
    steps: int
    vr_tau: float
    vp_cost: float
    rows: list[SweepRow]
    reports: dict[int, PrecisionReport] = field(default_factory=dict, repr=False)
    seconds: float = 0.0

    def to_text(self) -> str:
        head = (f"{'bits':>4} {'|count err|':>11} {'rate err':>9} {'vR mean':>8} {'VP mean':>8} {'same':>7} "
                f"{'v rmse':>8} {'wraps':>6} {'w abs err':>9} {'warn':>4}")
        lines = [f"weight-bit sweep of network {self.network!r}: {self.steps} steps; van Rossum tau {self.vr_tau:g} "
                 f"steps, Victor-Purpura cost {self.vp_cost:g}/step", "", head, "-" * len(head)]
        for r in self.rows:
            if r.error:
                lines.append(f"{r.weight_bits:>4} does not compile: {r.error}")
                continue
            lines.append(f"{r.weight_bits:>4} {r.abs_count_error:>11} {100 * r.rate_rel_error:>8.3g}% "
                         f"{r.van_rossum:>8.3g} {r.victor_purpura:>8.3g} {100 * r.identical:>6.1f}% {r.v_rmse:>8.3g} "
                         f"{r.wraps:>6} {r.weight_abs_error:>9.3g} {r.warnings:>4}")
        return "\n".join(lines)


def _row(bits: int, rep: PrecisionReport) -> SweepRow:
    fl, fx = rep.float_spikes.astype(np.int64), rep.fixed_spikes.astype(np.int64)
    nf, nx = int(fl.sum()), int(fx.sum())
    rel = 0.0 if nf == nx else (abs(nx - nf) / nf if nf else float("inf"))
    size = np.array([p.size for p in rep.populations], np.float64)
    mean = lambda key: float(np.dot(size, [getattr(p, key) for p in rep.populations]) / size.sum())  # noqa: E731
    wabs = [r.max_abs for r in rep.quantization.rows if r.quantity == "weight"]
    return SweepRow(bits, int(np.abs(fx.sum(axis=0) - fl.sum(axis=0)).sum()), rel, mean("van_rossum_mean"),
                    mean("victor_purpura_mean"), mean("identical"), mean("v_rmse_mean"), rep.total_wraps,
                    float(max(wabs)) if wabs else 0.0, len(rep.warnings))


def sweep(
    network: Network | str,
    weight_bits: Iterable[int] = range(1, 10),
    steps: int = 1000,
    inputs: np.ndarray | Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
    *,
    vr_tau: float = 10.0,
    vp_cost: float = 0.1,
    placement: str = "sequential",
) -> SweepReport:
    """Compare float and fixed point for each weight-bit setting (see the module docstring)."""
    t0 = time.perf_counter()
    net = as_network(network)
    bits_list = [int(b) for b in weight_bits]
    bad = [b for b in bits_list if not 1 <= b <= net.spec.max_weight_bits]
    if bad or not bits_list:
        raise PrecisionError(f"weight bits {bad or bits_list} outside 1..{net.spec.max_weight_bits}")
    x = input_spikes(net, int(steps), inputs)
    sim = float_run(net, int(steps), x)
    fl, vf = sim.data["spikes"], sim.data["v"]
    rows, reports = [], {}
    for b in bits_list:
        try:
            nb = with_weight_bits(net, b)
            fx = fixed_run(nb, int(steps), x, seed, placement)
        except CompilerError as exc:
            rows.append(SweepRow(b, error=str(exc)))
            continue
        rep = build_report(nb, int(steps), seed, fx.report, fl, vf, fx.spikes, fx.v, fx.wraps, fx.warnings, vr_tau,
                           vp_cost)
        rep.seconds.update(fx.seconds)
        reports[b] = rep
        rows.append(_row(b, rep))
    return SweepReport(net.name, int(steps), float(vr_tau), float(vp_cost), rows, reports, time.perf_counter() - t0)
