"""Cost profiles: what one event costs in energy and time, loaded from a small JSON file.

A profile charges each event of :mod:`loihi_emu.runtime.energy_counts` an
energy (J) and a latency (s), and gives the end-of-step barrier as a
function of the tiles in use. Two ship with the package (``profiles/``):

* ``davies2018``: Davies et al., IEEE Micro 2018, Table 2 (0.75 V);
* ``sanafe_loihi``: SANA-FE 2.2.9's board-calibrated Loihi description.

File format (``loihi-energy-profile/1``; energies in pJ, times in ns)::

    {"format": "loihi-energy-profile/1", "name": "...", "description": "...", "source": "...",
     "events": {"neuron_access": {"energy_pJ": 52.0, "latency_ns": 5.3, "note": "..."}, ...},
     "barrier": {"mode": "linear" | "step", "tiles": [1, 32], "latency_ns": [113.0, 465.0]},
     "latency": {"combine": "max" | "sum"}}

Every event of :data:`EVENTS` must be given; ``note`` keys are optional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from loihi_emu.errors import LoihiError

FORMAT = "loihi-energy-profile/1"
PROFILE_DIR = Path(__file__).resolve().parent / "profiles"

# event -> the count it multiplies (loihi_emu.runtime.energy_counts.COUNT_NAMES)
EVENTS = {
    "neuron_access": "compartments",
    "neuron_active": "active",
    "spike": "spikes",
    "message_out": "messages",
    "message_in": "messages_in",
    "synaptic_op": "synaptic_events",
    "synaptic_update": "learning_updates",
    "hop_ew": "ew_hops",
    "hop_ns": "ns_hops",
    "chip_hop": "chip_hops",
}
# the phase of a core's step each event's latency adds to (hops: network transit, not charged as time)
PHASES = {
    "send": ("neuron_access", "neuron_active", "spike", "message_out"),
    "receive": ("message_in", "synaptic_op"),
    "learn": ("synaptic_update",),
}
BARRIER_MODES = ("linear", "step")
COMBINES = ("max", "sum")


class EnergyError(LoihiError, ValueError):
    """The energy estimate cannot be made as asked (a missing extra, a bad argument)."""


class EnergyProfileError(EnergyError):
    """A cost profile is missing, malformed or holds an impossible value (names the file and key)."""


@dataclass(frozen=True)
class Cost:
    """One event's cost: ``energy`` in joules, ``latency`` in seconds."""

    energy: float
    latency: float


@dataclass(frozen=True)
class CostProfile:
    """Costs of every event in :data:`EVENTS`, the barrier model and how phases combine.

    barrier_tiles, barrier_latency: the barrier (s) at those tile counts;
    ``linear`` interpolates between them, ``step`` takes the entry of the
    largest tile count <= the tiles in use; both hold the end values outside.
    combine: ``max`` - a step lasts max(slowest send phase, slowest receive
    phase) over cores (SANA-FE's simple model); ``sum`` - the slowest
    core's send + receive.
    """

    name: str
    costs: dict[str, Cost]
    barrier_tiles: tuple[int, ...]
    barrier_latency: tuple[float, ...]
    barrier_mode: str = "linear"
    combine: str = "max"
    description: str = ""
    source: str = ""
    notes: dict[str, str] = field(default_factory=dict, compare=False)

    def barrier(self, tiles: int) -> float:
        """End-of-step barrier in seconds with ``tiles`` tiles in use."""
        xs, ys = np.asarray(self.barrier_tiles, float), np.asarray(self.barrier_latency, float)
        if self.barrier_mode == "step":
            return float(ys[max(int(np.searchsorted(xs, tiles, side="right")) - 1, 0)])
        return float(np.interp(tiles, xs, ys))

    def to_dict(self) -> dict:
        """The profile in the file format (pJ, ns)."""
        events = {}
        for k, c in self.costs.items():
            events[k] = {"energy_pJ": c.energy * 1e12, "latency_ns": c.latency * 1e9}
            if k in self.notes:
                events[k]["note"] = self.notes[k]
        return {"format": FORMAT, "name": self.name, "description": self.description, "source": self.source,
                "events": events,
                "barrier": {"mode": self.barrier_mode, "tiles": list(self.barrier_tiles),
                            "latency_ns": [x * 1e9 for x in self.barrier_latency]},
                "latency": {"combine": self.combine}}


def _number(where: str, key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
        raise EnergyProfileError(f"{where}: {key} = {value!r} must be a finite number >= 0")
    return float(value)


def _keys(where: str, what: str, d, required: set[str], optional: set[str] = frozenset()) -> None:
    if not isinstance(d, dict):
        raise EnergyProfileError(f"{where}: {what} must be an object, got {type(d).__name__}")
    missing, extra = required - d.keys(), d.keys() - required - optional
    if missing:
        raise EnergyProfileError(f"{where}: {what} lacks {', '.join(sorted(missing))}")
    if extra:
        raise EnergyProfileError(f"{where}: {what} has unknown key(s) {', '.join(sorted(extra))}")


def profile_from_dict(d: dict, where: str = "profile") -> CostProfile:
    """Check a parsed profile file and build the :class:`CostProfile` (raises :class:`EnergyProfileError`)."""
    _keys(where, "the profile", d, {"format", "name", "events", "barrier"}, {"description", "source", "latency"})
    if d["format"] != FORMAT:
        raise EnergyProfileError(f"{where}: format {d['format']!r} is not {FORMAT!r}")
    if not isinstance(d["name"], str) or not d["name"]:
        raise EnergyProfileError(f"{where}: name must be a non-empty string")
    _keys(where, "events", d["events"], set(EVENTS))
    costs, notes = {}, {}
    for k in EVENTS:
        e = d["events"][k]
        _keys(where, f"events.{k}", e, {"energy_pJ", "latency_ns"}, {"note"})
        costs[k] = Cost(_number(where, f"events.{k}.energy_pJ", e["energy_pJ"]) * 1e-12,
                        _number(where, f"events.{k}.latency_ns", e["latency_ns"]) * 1e-9)
        if "note" in e:
            notes[k] = str(e["note"])
    b = d["barrier"]
    _keys(where, "barrier", b, {"mode", "tiles", "latency_ns"}, {"note"})
    if b["mode"] not in BARRIER_MODES:
        raise EnergyProfileError(f"{where}: barrier.mode {b['mode']!r} is not one of {BARRIER_MODES}")
    if not isinstance(b["tiles"], list) or not isinstance(b["latency_ns"], list) or not b["tiles"] \
            or len(b["tiles"]) != len(b["latency_ns"]):
        raise EnergyProfileError(f"{where}: barrier.tiles and barrier.latency_ns must be lists of equal, non-zero length")
    tiles = [_number(where, f"barrier.tiles[{i}]", x) for i, x in enumerate(b["tiles"])]
    if not all(x.is_integer() and x >= 1 for x in tiles):
        raise EnergyProfileError(f"{where}: barrier.tiles {b['tiles']} must be whole numbers >= 1")
    tiles = [int(x) for x in tiles]
    if any(b2 <= a for a, b2 in zip(tiles, tiles[1:])):
        raise EnergyProfileError(f"{where}: barrier.tiles {tiles} must increase")
    lat = [_number(where, f"barrier.latency_ns[{i}]", x) * 1e-9 for i, x in enumerate(b["latency_ns"])]
    combine = "max"
    if "latency" in d:
        _keys(where, "latency", d["latency"], {"combine"})
        combine = d["latency"]["combine"]
        if combine not in COMBINES:
            raise EnergyProfileError(f"{where}: latency.combine {combine!r} is not one of {COMBINES}")
    return CostProfile(name=d["name"], costs=costs, barrier_tiles=tuple(tiles), barrier_latency=tuple(lat),
                       barrier_mode=b["mode"], combine=combine, description=str(d.get("description", "")),
                       source=str(d.get("source", "")), notes=notes)


def list_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json"))


def load_profile(profile: str | Path | CostProfile = "davies2018") -> CostProfile:
    """A shipped profile by name (:func:`list_profiles`), a profile file by path, or a :class:`CostProfile` as is."""
    if isinstance(profile, CostProfile):
        return profile
    path = Path(profile)
    if str(profile) in list_profiles():
        path = PROFILE_DIR / f"{profile}.json"
    elif not path.is_file():
        raise EnergyProfileError(f"no cost profile named {str(profile)!r} (shipped: {', '.join(list_profiles())}) "
                                 "and no such file")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EnergyProfileError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise EnergyProfileError(f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return profile_from_dict(d, str(path))
