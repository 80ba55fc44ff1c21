"""Joules and chip time of a run: event counts times a cost profile.

Energy of a row (core, or the inputs row) in a step: the sum over events of
count x energy (:data:`~loihi_emu.energy.profiles.EVENTS`); the inputs row
is charged only for its messages and hops (the host's own work is not the
chip's). Chip time of a step (SANA-FE's simple model)::

    send_c    = compartments*neuron_access + active*neuron_active + spikes*spike + messages*message_out
    receive_c = messages_in*message_in + synaptic_events*synaptic_op
    learn_c   = learning_updates*synaptic_update
    step time = max(max_c send_c, max_c receive_c) + max_c learn_c + barrier(tiles in use)

(``combine = "sum"``: ``max_c (send_c + receive_c)`` instead of the first
term). Hop latencies are network transit that overlaps with the cores' work:
the simple model, like SANA-FE's, adds none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from loihi_emu.energy.profiles import EVENTS, PHASES, CostProfile, load_profile
from loihi_emu.image.core import Image
from loihi_emu.runtime.energy_counts import COUNT_NAMES, EventCounts, counts_from_run
from loihi_emu.runtime.mesh import LOIHI1_MESH, MeshLayout

_HOST_FREE = ("neuron_access", "neuron_active", "spike")  # what the inputs row is not charged


@dataclass(frozen=True, eq=False)
class EnergyReport:
    """Energy and time of a run under one profile.

    energy: float64 [steps, rows, events] joules per step, row and event
    (events in :data:`EVENTS` order); phases: float64 [steps, rows, 3]
    seconds of send, receive and learn work; step_time: float64 [steps]
    chip seconds per step; barrier: seconds per step.
    """

    profile: CostProfile
    counts: EventCounts
    energy: np.ndarray
    phases: np.ndarray
    step_time: np.ndarray
    barrier: float

    @property
    def labels(self) -> tuple[str, ...]:
        return self.counts.labels

    @property
    def steps(self) -> int:
        return self.step_time.size

    @property
    def total_energy(self) -> float:
        """Joules over the whole run."""
        return float(self.energy.sum())

    @property
    def total_time(self) -> float:
        """Chip seconds over the whole run."""
        return float(self.step_time.sum())

    @property
    def per_step(self) -> dict[str, np.ndarray]:
        """'energy' (J) and 'time' (s) per step, float64 [steps]."""
        return {"energy": self.energy.sum(axis=(1, 2)), "time": self.step_time.copy()}

    @property
    def per_core(self) -> dict[str, np.ndarray | tuple]:
        """Per row over the run: 'label', 'energy' (J), 'busy' (s of send+receive+learn work), and every count."""
        out: dict[str, np.ndarray | tuple] = {"label": self.labels, "energy": self.energy.sum(axis=(0, 2)),
                                              "busy": self.phases.sum(axis=(0, 2))}
        out.update(self.counts.totals())
        return out

    def breakdown(self) -> dict[str, float]:
        """Joules per event over the run."""
        return {k: float(x) for k, x in zip(EVENTS, self.energy.sum(axis=(0, 1)))}

    def summary(self, top: int = 5) -> str:
        """A few lines of text: totals, per-step averages, the breakdown by event and the busiest cores."""
        t, e = self.total_time, self.total_energy
        c = self.counts.totals()
        lines = [
            f"energy estimate ({self.profile.name}): {self.steps} steps, {len(self.labels) - 1} cores, "
            f"{self.counts.tiles_in_use} tiles",
            f"  total {_si(e, 'J')}, chip time {_si(t, 's')}, mean power {_si(e / t if t else 0.0, 'W')}",
            f"  per step: {_si(e / max(self.steps, 1), 'J')}, {_si(t / max(self.steps, 1), 's')} "
            f"(barrier {_si(self.barrier, 's')})",
            "  events: " + ", ".join(f"{k} {int(c[k][:-1].sum() if k == 'spikes' else c[k].sum())}"
                                     for k in COUNT_NAMES) + f"; input spikes {int(c['spikes'][-1])}",
            "  energy by event: " + (", ".join(f"{k} {_si(v, 'J')}" for k, v in self.breakdown().items() if v)
                                     or "none"),
        ]
        pc = self.per_core
        order = np.argsort(-pc["energy"], kind="stable")[:top]
        lines.append("  top cores: " + "; ".join(f"{pc['label'][i]} {_si(pc['energy'][i], 'J')}" for i in order))
        return "\n".join(lines)


def _si(x: float, unit: str) -> str:
    for scale, prefix in ((1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p")):
        if abs(x) >= scale:
            return f"{x / scale:.4g} {prefix}{unit}"
    return f"{x / 1e-15:.4g} f{unit}" if x else f"0 {unit}"


def convert(counts: EventCounts, profile: str | CostProfile = "davies2018") -> EnergyReport:
    """Charge ``counts`` with ``profile`` (a name, a file or a :class:`CostProfile`)."""
    prof = load_profile(profile)
    steps, rows = counts.compartments.shape
    energy = np.zeros((steps, rows, len(EVENTS)))
    latency = {}
    for j, (event, count) in enumerate(EVENTS.items()):
        n = getattr(counts, count).astype(np.float64)
        if event in _HOST_FREE:
            n[:, rows - 1] = 0.0
        energy[:, :, j] = n * prof.costs[event].energy
        latency[event] = n * prof.costs[event].latency
    phases = np.stack([sum(latency[e] for e in PHASES[p]) for p in ("send", "receive", "learn")], axis=2)
    if rows and steps:
        if prof.combine == "max":
            work = np.maximum(phases[:, :, 0].max(axis=1), phases[:, :, 1].max(axis=1))
        else:
            work = (phases[:, :, 0] + phases[:, :, 1]).max(axis=1)
        work = work + phases[:, :, 2].max(axis=1)
    else:
        work = np.zeros(steps)
    barrier = prof.barrier(counts.tiles_in_use)
    return EnergyReport(profile=prof, counts=counts, energy=energy, phases=phases, step_time=work + barrier,
                        barrier=barrier)


def estimate_energy(image: Image, data: Mapping, profile: str | CostProfile = "davies2018", inputs=None,
                    mesh: MeshLayout = LOIHI1_MESH, input_core: tuple[int, int] = (0, 0),
                    backend: str = "numba") -> EnergyReport:
    """Energy and chip time of a run of ``image``.

    data: ``Emulator.data`` of a run with ``probes=energy_probes(...)`` (spikes
    and v of every compartment, every step). inputs: the external input
    spikes the run was given (as ``Emulator.run`` takes them: [steps, n_axons]
    or (step, axon) pairs), None for none. input_core: the (chip, core) whose
    tile the host injects input spikes at (hops are counted from there).
    backend: 'numba' or 'numpy' for the counts (the same counts either way).
    """
    return convert(counts_from_run(image, data, inputs, mesh, input_core, backend), profile)
