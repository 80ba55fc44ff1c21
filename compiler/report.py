"""The compile report: what the image costs, where it lives, what quantization lost.

Printable as a table (``str(report)``, :meth:`CompileReport.to_text`) and as
JSON (:meth:`CompileReport.to_json`). :func:`usage_table` formats the per-core
usage of any image (the CLI's ``info`` uses it on saved images).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from compiler.passes.dense import DenseSummary
from compiler.passes.lower import RouteStats
from compiler.passes.partition import binding_summary
from compiler.passes.quantize import QuantizationTable
from compiler.passes.traffic import TrafficEstimate
from loihi_emu.hw import HardwareSpec
from loihi_emu.image.limits import CoreUsage, core_limits

USAGE_COLUMNS = (
    ("compartments", "cx"), ("input_axons", "in ax"), ("output_axons", "out ax"), ("synapses", "synapses"),
    ("synapse_memory_bits", "syn mem"), ("compartment_profiles", "cx prof"), ("threshold_profiles", "vth prof"),
    ("synapse_formats", "formats"), ("vminmax_profiles", "vminmax"), ("learning_profiles", "learning"),
    ("trace_profiles", "traces"),
)


def usage_table(usages: list[CoreUsage], spec: HardwareSpec, max_rows: int | None = 40,
                binding: list[str] | None = None) -> str:
    """Per-core usage as a text table; the last row gives each limit, the one before the peak use in %.

    The ``binding`` column names what closed each core (from the packer when
    given, else the resource the core uses the largest fraction of, marked ``~``).
    """
    limits = core_limits(spec)
    head = f"{'chip':>4} {'core':>4} " + " ".join(f"{label:>9}" for _, label in USAGE_COLUMNS) + "  binding"
    lines = [head, "-" * len(head)]
    shown = usages if max_rows is None or len(usages) <= max_rows else usages[: max_rows - 1]
    for i, u in enumerate(shown):
        vals = " ".join(f"{getattr(u, k):>9}" for k, _ in USAGE_COLUMNS)
        why = binding[i] if binding is not None and i < len(binding) else "~" + u.fullest(spec)
        lines.append(f"{u.chip:>4} {u.core:>4} {vals}  {why.replace('_', ' ')}")
    if len(shown) < len(usages):
        lines.append(f"  ... {len(usages) - len(shown)} more cores (to_json() lists all)")
    peak = []
    for k, _ in USAGE_COLUMNS:
        if k in limits and usages:
            peak.append(f"{100 * max(getattr(u, k) for u in usages) / limits[k]:>8.0f}%")
        else:
            peak.append(f"{'':>9}")
    lines.append(f"{'peak':>9} " + " ".join(peak))
    lines.append(f"{'limit':>9} " + " ".join(f"{limits.get(k, ''):>9}" for k, _ in USAGE_COLUMNS))
    return "\n".join(lines)


@dataclass
class PlacedPiece:
    """Compartments ``start..stop-1`` of ``population`` on ``(chip, core)``."""

    population: str
    start: int
    stop: int
    chip: int
    core: int


@dataclass
class LearningEntry:
    """One learning profile of a core: canonical rule text, traces (name -> (impulse, tau steps)),
    epoch (steps), rounding ('det' / 'stochastic') and the plastic projections ("pre->post") using it."""

    rule: str
    traces: dict[str, tuple[int, int]]
    epoch: int
    rounding: str
    projections: list[str]

    def to_dict(self) -> dict:
        return {"rule": self.rule, "traces": {k: list(v) for k, v in self.traces.items()}, "epoch": self.epoch,
                "rounding": self.rounding, "projections": list(self.projections)}

    def to_text(self) -> str:
        tr = ", ".join(f"{k} ({imp}, {tau})" for k, (imp, tau) in self.traces.items()) or "none"
        return (f"{self.rule} | traces (impulse, tau): {tr} | epoch {self.epoch} | {self.rounding} | "
                f"{', '.join(self.projections)}")


@dataclass
class CoreLearning:
    """The learning profiles on (chip, core), in the order of the core's profile table."""

    chip: int
    core: int
    profiles: list[LearningEntry]


@dataclass
class CompileReport:
    """What :func:`compiler.compile` produced.

    compartments / input_axons: population -> (first global index, size), the
    numbering of probes and of the ``[steps, n_axons]`` input array.
    scales: population -> v units per model unit. formats: projection ->
    (weight bits, weight exponent, sign mode). core_usage: per core, as
    :func:`loihi_emu.image.limits.usage` counts it. learning: per core that has
    plastic synapses, its learning profiles (:class:`CoreLearning`). seconds: compile wall time;
    timings: seconds per stage (quantize, partition, place, lower, validate).
    """

    network: str
    spec: HardwareSpec
    placement: str
    n_compartments: int
    n_inputs: int
    n_synapses: int
    cores: int
    chips: int
    n_chips: int | None
    core_usage: list[CoreUsage]
    pieces: list[PlacedPiece]
    routes: RouteStats
    quantization: QuantizationTable
    scales: dict[str, float] = field(default_factory=dict)
    formats: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    compartments: dict[str, tuple[int, int]] = field(default_factory=dict)
    input_axons: dict[str, tuple[int, int]] = field(default_factory=dict)
    learning: list[CoreLearning] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    packing: str = "exact"
    binding: list[str] = field(default_factory=list)
    dense: DenseSummary | None = None
    compartment_scales: np.ndarray | None = field(default=None, repr=False)
    traffic: TrafficEstimate | None = None
    trees: dict[str, list[str]] = field(default_factory=dict)  # population -> its compartments, tree order

    def scale_array(self) -> np.ndarray:
        """v units per model unit of every compartment, in global order (float64 [n_compartments])."""
        if self.compartment_scales is not None:
            return self.compartment_scales
        return np.concatenate([np.full(size, self.scales[name]) for name, (_, size) in self.compartments.items()])

    @property
    def binding_summary(self) -> str:
        """E.g. ``"52 cores; binding: input axons on 40, threshold profiles on 12"``."""
        return binding_summary(self.binding or ["~" + u.fullest(self.spec) for u in self.core_usage])

    def utilisation(self) -> list[dict[str, float]]:
        """Per core, use / limit of every per-core limit."""
        return [u.utilisation(self.spec) for u in self.core_usage]

    def to_dict(self) -> dict:
        return {
            "network": self.network,
            "spec": self.spec.name,
            "placement": self.placement,
            "n_compartments": self.n_compartments,
            "n_inputs": self.n_inputs,
            "n_synapses": self.n_synapses,
            "cores": self.cores,
            "chips": self.chips,
            "n_chips": self.n_chips,
            "packing": self.packing,
            "binding_summary": self.binding_summary,
            "limits": core_limits(self.spec),
            "core_usage": [dict(asdict(u), binding=b, utilisation=u.utilisation(self.spec)) for u, b in
                           zip(self.core_usage, self.binding or [""] * len(self.core_usage))],
            "dense": self.dense.to_dict() if self.dense is not None else None,
            "traffic": self.traffic.to_dict() if self.traffic is not None else None,
            "pieces": [asdict(p) for p in self.pieces],
            "routes": self.routes.to_dict(),
            "quantization": self.quantization.to_dicts(),
            "scales": self.scales,
            "formats": {k: list(v) for k, v in self.formats.items()},
            "compartments": {k: list(v) for k, v in self.compartments.items()},
            "input_axons": {k: list(v) for k, v in self.input_axons.items()},
            "learning": [{"chip": c.chip, "core": c.core, "profiles": [e.to_dict() for e in c.profiles]}
                         for c in self.learning],
            "seconds": self.seconds,
            "timings": self.timings,
            "trees": self.trees,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON (infinite relative errors are written as the string "inf")."""

        def clean(x):
            if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
                return str(x)
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, list):
                return [clean(v) for v in x]
            return x

        return json.dumps(clean(self.to_dict()), indent=indent)

    def to_text(self, quant_rows: int = 10) -> str:
        r = self.routes
        lines = [
            f"network {self.network!r} on {self.spec.name}: {self.n_compartments} compartments, "
            f"{self.n_inputs} input axons, {self.n_synapses} synapses"
            + "".join(f"; {k}: {len(v)} compartments per neuron ({', '.join(v)})" for k, v in self.trees.items()),
            f"placement {self.placement!r}, packing {self.packing!r}: {self.cores} cores on {self.chips} chip(s)"
            + (f" (system: {self.n_chips} chips)" if self.n_chips is not None else "")
            + f"; compiled in {self.seconds:.2f} s ("
            + ", ".join(f"{k} {v:.2f}" for k, v in self.timings.items()) + ")",
            "",
            "populations (first global compartment, size) -> cores:",
        ]
        by_pop: dict[str, list[PlacedPiece]] = {}
        for p in self.pieces:
            by_pop.setdefault(p.population, []).append(p)
        for name, (first, size) in self.compartments.items():
            where = sorted({(p.chip, p.core) for p in by_pop.get(name, [])})
            cores = ", ".join(f"{c}.{k}" for c, k in where[:8]) + (" ..." if len(where) > 8 else "")
            lines.append(f"  {name:<20} {first:>8} {size:>8}  scale {self.scales.get(name, 0):.4g}  "
                         f"on {len(where)} core(s): {cores}")
        for name, (first, size) in self.input_axons.items():
            lines.append(f"  {name:<20} input axons {first}..{first + size - 1}")
        lines += [
            "",
            self.binding_summary,
            "",
            "per-core usage:",
            usage_table(self.core_usage, self.spec, binding=self.binding or None),
            "",
            f"routes (output axons): {r.intra_core} intra-core, {r.inter_core} inter-core, "
            f"{r.inter_chip} inter-chip; {r.input_routes} from external inputs",
            f"synapses between compartments: {r.synapses_local} within a core, {r.synapses_inter_core} "
            f"crossing cores, {r.synapses_inter_chip} crossing chips",
        ]
        if self.traffic is not None:
            lines.append(self.traffic.to_text())
        if self.dense is not None and (self.dense.profiles or self.dense.exact):
            lines += ["", self.dense.to_text()]
        lines += [
            "",
            "synapse formats (weight bits, exponent, sign):",
        ]
        lines += [f"  {k}: {b} bits, 2^{e}, {s}" for k, (b, e, s) in self.formats.items()]
        if self.learning:
            lines += ["", "learning profiles per core (rule | traces | epoch | rounding | projections):"]
            for c in self.learning[:32]:
                lines.append(f"  chip {c.chip} core {c.core}:")
                lines += [f"    [{i}] {e.to_text()}" for i, e in enumerate(c.profiles)]
            if len(self.learning) > 32:
                lines.append(f"  ... {len(self.learning) - 32} more cores (to_json() lists all)")
        lines += ["", f"quantization error (worst {quant_rows} of {len(self.quantization.rows)}):",
                  self.quantization.to_text(quant_rows)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()
