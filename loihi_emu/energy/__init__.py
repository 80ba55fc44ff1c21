"""Energy and latency estimates of Loihi 1 runs (docs/energy.md).

``estimate_energy(image, emu.data, profile="davies2018", inputs=...)`` counts
the events of a run (:mod:`loihi_emu.runtime.energy_counts`) and charges them
with a named cost profile (:mod:`loihi_emu.energy.profiles`).
"""

from loihi_emu.energy.profiles import (
    EVENTS,
    Cost,
    CostProfile,
    EnergyError,
    EnergyProfileError,
    list_profiles,
    load_profile,
    profile_from_dict,
)
from loihi_emu.energy.report import EnergyReport, convert, estimate_energy
from loihi_emu.runtime.energy_counts import COUNT_NAMES, EventCounts, count_events, energy_probes, structure
from loihi_emu.runtime.mesh import LOIHI1_MESH, MeshLayout

__all__ = [
    "COUNT_NAMES", "EVENTS", "LOIHI1_MESH", "Cost", "CostProfile", "EnergyError", "EnergyProfileError", "EnergyReport",
    "EventCounts", "MeshLayout", "convert", "count_events", "energy_probes", "estimate_energy", "list_profiles",
    "load_profile", "profile_from_dict", "structure",
]
