"""Precision report: what fixed point costs a network, float reference vs the emulator.

:func:`compare` compiles the network, runs the emulator and the float reference
(:mod:`compiler.precision.reference`) on the same inputs, and measures per population
how far the fixed-point spikes and voltages are from the float ones
(:mod:`compiler.precision.metrics`). Voltages are compared in model units: the
emulator's ``v`` divided by the population's scale from the compile report.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from compiler.errors import CompilerError, QuantizationWarning
from compiler.network.model import Network
from compiler.passes.quantize import QuantizationTable
from compiler.pipeline import as_network, compile
from compiler.precision.metrics import first_spike, van_rossum, victor_purpura
from compiler.precision.reference import FloatLearning, FloatSimulator
from loihi_emu import Emulator


class PrecisionError(CompilerError):
    """A precision comparison got arguments it cannot use (the message names them)."""


@dataclass
class PopulationPrecision:
    """Float vs fixed point for one population (all counts in spikes, times in steps).

    count_error: fixed minus float spikes of the whole population;
    mean_abs_count_error / max_abs_count_error: per compartment |fixed - float| spikes.
    float_rate / fixed_rate: spikes per compartment per step; rate_rel_error:
    |fixed - float| / float (0 when both are 0, inf when only float is 0).
    latency_*: first-spike step fixed minus float, over compartments that spike
    in both runs (mean |.|, max |.|, mean signed); latency_unmatched:
    compartments that spike in one run only.
    van_rossum_*: distance with tau ``vr_tau`` steps (mean and max over
    compartments); victor_purpura_*: with cost ``vp_cost`` per step of shift.
    identical: fraction of compartments whose spike trains are identical.
    v_rmse_*: per compartment RMS of (fixed v - float v) over the steps,
    divided by that compartment's threshold (model units / model units);
    worst_v: global indices of the compartments with the largest v_rmse.
    """

    name: str
    first: int
    size: int
    float_spikes: int
    fixed_spikes: int
    count_error: int
    mean_abs_count_error: float
    max_abs_count_error: int
    float_rate: float
    fixed_rate: float
    rate_rel_error: float
    latency_mean_abs: float
    latency_max_abs: int
    latency_mean: float
    latency_unmatched: int
    van_rossum_mean: float
    van_rossum_max: float
    victor_purpura_mean: float
    victor_purpura_max: float
    identical: float
    v_rmse_mean: float
    v_rmse_max: float
    worst_v: list[int] = field(default_factory=list)


@dataclass
class PlasticProjection:
    """Float weight trajectory of one plastic projection (model units).

    mean_abs_change / max_abs_change: |w(end) - w(start)| over its synapses;
    divergence: RMS of (fixed - float) weights at the end of the run (model
    units), None when the image holds no plastic synapses.
    """

    projection: str
    synapses: int
    mean_abs_change: float
    max_abs_change: float
    divergence: float | None = None


@dataclass
class PrecisionReport:
    """What :func:`compare` measured (see :class:`PopulationPrecision` for the units of each figure).

    quantization: the compiler's error table per parameter; wraps: wrap-arounds
    of q, u, u2 in the fixed-point run; scales: v units per model unit;
    warnings: the quantization warnings of the compile; seconds: wall time of
    compile, emulator and float runs. The arrays (spikes [steps, n], v in
    model units [steps, n], thresholds [n]) are kept for plots, not for JSON.
    """

    network: str
    steps: int
    seed: int
    vr_tau: float
    vp_cost: float
    populations: list[PopulationPrecision]
    quantization: QuantizationTable
    wraps: dict[str, int]
    scales: dict[str, float]
    formats: dict[str, tuple[int, int, str]]
    warnings: list[str] = field(default_factory=list)
    plastic: list[PlasticProjection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    float_spikes: np.ndarray | None = field(default=None, repr=False)
    fixed_spikes: np.ndarray | None = field(default=None, repr=False)
    float_v: np.ndarray | None = field(default=None, repr=False)
    fixed_v: np.ndarray | None = field(default=None, repr=False)
    vth: np.ndarray | None = field(default=None, repr=False)

    def population(self, name: str) -> PopulationPrecision:
        for p in self.populations:
            if p.name == name:
                return p
        raise PrecisionError(f"the report has no population {name!r}; it has {[p.name for p in self.populations]}")

    @property
    def total_wraps(self) -> int:
        return int(sum(self.wraps.values()))

    def to_dict(self) -> dict:
        return {
            "network": self.network, "steps": self.steps, "seed": self.seed,
            "van_rossum_tau_steps": self.vr_tau, "victor_purpura_cost_per_step": self.vp_cost,
            "populations": [asdict(p) for p in self.populations],
            "quantization": self.quantization.to_dicts(), "wraps": dict(self.wraps),
            "scales": dict(self.scales), "formats": {k: list(v) for k, v in self.formats.items()},
            "warnings": list(self.warnings), "plastic": [asdict(p) for p in self.plastic],
            "notes": list(self.notes), "seconds": dict(self.seconds),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON (non-finite numbers as the strings "inf" / "nan")."""
        return json.dumps(json_safe(self.to_dict()), indent=indent)

    def to_text(self, quant_rows: int = 8) -> str:
        lines = [
            f"precision of network {self.network!r}: {self.steps} steps, seed {self.seed}; float64 reference vs "
            f"fixed-point emulator",
            f"van Rossum tau {self.vr_tau:g} steps; Victor-Purpura cost {self.vp_cost:g} per step of shift; "
            f"v RMSE relative to threshold",
            "",
        ]
        head = (f"{'population':<14} {'n':>6} {'float sp':>9} {'fixed sp':>9} {'count err':>9} {'|err|/cx':>8} "
                f"{'rate err':>8} {'lat |d|':>7} {'lat max':>7} {'unmatch':>7} {'vR mean':>7} {'VP mean':>7} "
                f"{'same':>6} {'v rmse':>7} {'v max':>7}")
        lines += [head, "-" * len(head)]
        for p in self.populations:
            lines.append(
                f"{p.name[:14]:<14} {p.size:>6} {p.float_spikes:>9} {p.fixed_spikes:>9} {p.count_error:>+9} "
                f"{p.mean_abs_count_error:>8.3g} {_pct(p.rate_rel_error):>8} {p.latency_mean_abs:>7.3g} "
                f"{p.latency_max_abs:>7} {p.latency_unmatched:>7} {p.van_rossum_mean:>7.3g} "
                f"{p.victor_purpura_mean:>7.3g} {100 * p.identical:>5.1f}% {p.v_rmse_mean:>7.3g} {p.v_rmse_max:>7.3g}"
            )
        w = self.wraps
        lines += ["", f"fixed-point wrap-arounds: q {w.get('q', 0)}, u {w.get('u', 0)}, u2 {w.get('u2', 0)}"
                  + ("  <-- the fixed-point run overflowed; see docs/precision.md" if self.total_wraps else "")]
        lines += ["scales (v units per model unit): " + ", ".join(f"{k} {v:.4g}" for k, v in self.scales.items())]
        lines += ["synapse formats: " + ", ".join(f"{k} {b} bits 2^{e} {s}" for k, (b, e, s) in self.formats.items())]
        if self.plastic:
            lines += ["", "plastic projections (float weight trajectory, model units):"]
            for p in self.plastic:
                div = "n/a" if p.divergence is None else f"{p.divergence:.4g}"
                lines.append(f"  {p.projection}: {p.synapses} synapses, mean |dw| {p.mean_abs_change:.4g}, "
                             f"max |dw| {p.max_abs_change:.4g}, fixed vs float divergence {div}")
        lines += ["", f"quantization error (worst {min(quant_rows, len(self.quantization.rows))} of "
                  f"{len(self.quantization.rows)}):", self.quantization.to_text(quant_rows)]
        for title, items in (("notes", self.notes), ("quantization warnings", self.warnings)):
            if items:
                lines += ["", f"{title}:"] + [f"  {x}" for x in items]
        lines += ["", "seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in self.seconds.items())]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _pct(x: float) -> str:
    return "inf" if not np.isfinite(x) else f"{100 * x:.3g}%"


def json_safe(x):
    """``x`` with numpy scalars unwrapped and non-finite floats as strings, for JSON."""
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, np.generic):
        return json_safe(x.item())
    return x


# ---------------------------------------------------------------- the runs
def input_spikes(net: Network, steps: int, inputs) -> np.ndarray:
    """The ``[steps, n_axons]`` uint8 input array: the network's own (None), per population overrides (a dict), or as given."""
    if inputs is None:
        return net.input_array(steps)
    if isinstance(inputs, Mapping):
        return net.input_array(steps, spikes=inputs)
    arr = np.asarray(inputs)
    if arr.shape != (steps, net.n_inputs):
        raise PrecisionError(f"inputs have shape {arr.shape}, expected [steps={steps}, n_axons={net.n_inputs}]")
    return arr.astype(np.uint8)


def float_run(net: Network, steps: int, x: np.ndarray, plastic: bool = False,
              learning: Mapping[str, FloatLearning] | FloatLearning | None = None) -> FloatSimulator:
    """Run the float reference with probes spikes and v (and w when ``plastic``)."""
    probes = ["spikes", "v"] + (["w"] if plastic else [])
    sim = FloatSimulator(net, probes=probes, learning=learning, plastic=plastic)
    sim.run(steps, x)
    return sim


@dataclass
class FixedRun:
    """One compile + emulator run: spikes uint8 [steps, n], v in model units [steps, n], wraps, warnings,
    seconds; for images with plastic synapses their end-of-run weights in model units and their
    (source, target) in the emulator's stable order."""

    report: object
    spikes: np.ndarray
    v: np.ndarray
    wraps: dict[str, int]
    warnings: list[str]
    seconds: dict[str, float]
    plastic_w: np.ndarray | None = None
    plastic_source: np.ndarray | None = None
    plastic_target: np.ndarray | None = None


def fixed_run(net: Network, steps: int, x: np.ndarray, seed: int = 0, placement: str = "sequential",
              **options) -> FixedRun:
    """Compile ``net`` (``options``: more :func:`compiler.compile` arguments, e.g. ``packing``) and run the
    emulator on ``x`` (see :class:`FixedRun`)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", QuantizationWarning)
        image, crep = compile(net, placement=placement, **options)
    t1 = time.perf_counter()
    emu = Emulator(image, seed=seed, probes=["spikes", "v", "w"])
    emu.run(steps, x)
    scale = crep.scale_array()
    msgs = [str(w.message) for w in caught if issubclass(w.category, QuantizationWarning)]
    run = FixedRun(crep, emu.data["spikes"], emu.data["v"].astype(np.float64) / scale, emu.wraps, msgs,
                   {"compile": t1 - t0, "emulator": time.perf_counter() - t1})
    if emu.learning is not None:
        syn = emu.plastic_synapses()
        run.plastic_source, run.plastic_target = syn["source"], syn["target"]
        run.plastic_w = emu.data["w"][-1].astype(np.float64) / scale[syn["target"]]
    return run


def weight_divergence(float_w: np.ndarray, float_src: np.ndarray, float_tgt: np.ndarray, fixed_w: np.ndarray,
                      fixed_src: np.ndarray, fixed_tgt: np.ndarray) -> np.ndarray:
    """Fixed minus float weight per float synapse (model units), matching synapses by (source, target).

    Both sides are sorted by (source, target) with ties kept in their own order
    (the emulator's stable order is by source, target, then row position).
    """
    if float_w.size != fixed_w.size:
        raise PrecisionError(f"the float reference has {float_w.size} plastic synapses, the image {fixed_w.size}")
    fo = np.lexsort((float_tgt, float_src))
    xo = np.lexsort((fixed_tgt, fixed_src))
    if not (np.array_equal(float_src[fo], fixed_src[xo]) and np.array_equal(float_tgt[fo], fixed_tgt[xo])):
        raise PrecisionError("the plastic synapses of the image and of the network do not match by (source, target)")
    out = np.empty(float_w.size)
    out[fo] = fixed_w[xo] - float_w[fo]
    return out


def population_precision(
    name: str, first: int, fl: np.ndarray, fx: np.ndarray, vf: np.ndarray, vx: np.ndarray, vth: np.ndarray,
    vr_tau: float, vp_cost: float, worst_k: int = 3,
) -> PopulationPrecision:
    """Figures of one population from its float and fixed spikes [steps, size] and v [steps, size] (model units)."""
    steps, size = fl.shape
    cf, cx = fl.sum(axis=0).astype(np.int64), fx.sum(axis=0).astype(np.int64)
    nf, nx = int(cf.sum()), int(cx.sum())
    rf, rx = nf / (steps * size) if steps else 0.0, nx / (steps * size) if steps else 0.0
    rel = 0.0 if rf == rx else (abs(rx - rf) / rf if rf > 0 else float("inf"))
    lf, lx = first_spike(fl), first_spike(fx)
    both = (lf >= 0) & (lx >= 0)
    dl = (lx - lf)[both]
    vr = van_rossum(fl, fx, vr_tau)
    vp = victor_purpura(fl, fx, vp_cost)
    if steps:
        rmse = np.sqrt(np.mean((vx - vf) ** 2, axis=0)) / vth
    else:
        rmse = np.zeros(size)
    worst = np.argsort(-rmse, kind="stable")[:worst_k]
    return PopulationPrecision(
        name=name, first=first, size=size, float_spikes=nf, fixed_spikes=nx, count_error=nx - nf,
        mean_abs_count_error=float(np.abs(cx - cf).mean()), max_abs_count_error=int(np.abs(cx - cf).max()),
        float_rate=rf, fixed_rate=rx, rate_rel_error=rel,
        latency_mean_abs=float(np.abs(dl).mean()) if dl.size else 0.0,
        latency_max_abs=int(np.abs(dl).max()) if dl.size else 0,
        latency_mean=float(dl.mean()) if dl.size else 0.0, latency_unmatched=int(((lf >= 0) != (lx >= 0)).sum()),
        van_rossum_mean=float(vr.mean()), van_rossum_max=float(vr.max()),
        victor_purpura_mean=float(vp.mean()), victor_purpura_max=float(vp.max()),
        identical=float((fl == fx).all(axis=0).mean()), v_rmse_mean=float(rmse.mean()), v_rmse_max=float(rmse.max()),
        worst_v=[int(first + i) for i in worst],
    )


def _plastic_rows(net: Network, sim: FloatSimulator, fixed: FixedRun | None) -> list[PlasticProjection]:
    """Float weight change per plastic projection and, when the image learned too, the fixed - float RMS."""
    w = sim.data["w"]
    if w.shape[0] == 0 or w.shape[1] == 0:
        return []
    plastic = [p for p in net.projections if p.learning_rule is not None]
    w0 = np.concatenate([p.weight for p in plastic])
    change = np.abs(w[-1] - w0)
    syn = sim.plastic_synapses()
    diff = None
    if fixed is not None:
        diff = weight_divergence(w[-1], syn["source"], syn["target"], fixed.plastic_w, fixed.plastic_source,
                                 fixed.plastic_target)
    rows = []
    for k, p in enumerate(plastic):
        sel = syn["projection"] == k
        c = change[sel]
        div = float(np.sqrt(np.mean(diff[sel] ** 2))) if diff is not None and sel.any() else None
        rows.append(PlasticProjection(f"{p.pre}->{p.post}", p.n, float(c.mean()) if c.size else 0.0,
                                      float(c.max()) if c.size else 0.0, div))
    return rows


def compare(
    network: Network | str,
    steps: int,
    inputs: np.ndarray | Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
    *,
    vr_tau: float = 10.0,
    vp_cost: float = 0.1,
    learning: Mapping[str, FloatLearning] | FloatLearning | None = None,
    placement: str = "sequential",
    worst_k: int = 3,
) -> PrecisionReport:
    """Compile ``network``, run the emulator and the float reference for ``steps`` steps, and compare.

    inputs: None (the network's own inputs, ``network.input_array(steps)``),
    per input population overrides (a dict) or the ``[steps, n_axons]`` array.
    seed: the emulator's seed. vr_tau: van Rossum time constant (steps).
    vp_cost: Victor-Purpura cost per step of shift. learning: float settings
    of plastic projections (:class:`FloatLearning`, default: the projections'
    own traces). In plastic networks both runs learn, and the report gives per
    projection the float weight change and the RMS of fixed minus float
    weights at the end.
    """
    net = as_network(network)
    steps = int(steps)
    if steps < 1:
        raise PrecisionError(f"steps must be >= 1, got {steps}")
    x = input_spikes(net, steps, inputs)
    fixed = fixed_run(net, steps, x, seed, placement)
    plastic_net = any(p.learning_rule is not None for p in net.projections)
    t0 = time.perf_counter()
    sim = float_run(net, steps, x, plastic=plastic_net, learning=learning)
    secs = dict(fixed.seconds, float=time.perf_counter() - t0)
    report = build_report(net, steps, seed, fixed.report, sim.data["spikes"], sim.data["v"], fixed.spikes, fixed.v,
                          fixed.wraps, fixed.warnings, vr_tau, vp_cost, worst_k)
    report.seconds.update(secs)
    if plastic_net:
        report.plastic = _plastic_rows(net, sim, fixed)
    return report


def build_report(net: Network, steps: int, seed: int, crep, fl, vf, fx, vx, wraps, msgs, vr_tau: float,
                 vp_cost: float, worst_k: int = 3) -> PrecisionReport:
    """A :class:`PrecisionReport` from finished runs (float and fixed spikes, v in model units)."""
    vth = np.concatenate([p.vth for p in net.populations])
    pops = []
    for name, (first, size) in crep.compartments.items():
        sl = slice(first, first + size)
        pops.append(population_precision(name, first, fl[:, sl], fx[:, sl], vf[:, sl], vx[:, sl], vth[sl],
                                         vr_tau, vp_cost, worst_k))
    notes = []
    if sum(wraps.values()):
        notes.append(f"the fixed-point run wrapped {sum(wraps.values())} times ({wraps}): q or u exceeded its "
                     f"register; lower the weights or v_scale of the population that overflows")
    return PrecisionReport(
        network=net.name, steps=steps, seed=seed, vr_tau=float(vr_tau), vp_cost=float(vp_cost), populations=pops,
        quantization=crep.quantization, wraps=dict(wraps), scales=dict(crep.scales), formats=dict(crep.formats),
        warnings=msgs, notes=notes, float_spikes=np.asarray(fl), fixed_spikes=np.asarray(fx),
        float_v=np.asarray(vf), fixed_v=np.asarray(vx), vth=vth,
    )
